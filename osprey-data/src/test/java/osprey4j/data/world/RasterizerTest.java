package osprey4j.data.world;

import org.junit.jupiter.api.Test;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.Rle;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks the rasteriser's masks against an independent computation straight from the shapes: an object's visible
 * pixels are the pixel centres inside its shapes and inside no shape of a nearer object; a part's are those of
 * its shapes not covered by a later part of the same object nor by a nearer object.
 */
class RasterizerTest {
    private static final SyntheticWorld.Options OPTIONS = new SyntheticWorld.Options(1, 0, 96, 80, 1);

    @Test
    void masksAreExactlyTheVisiblePixelsOfTheShapes() {
        for (int seed = 0; seed < 25; seed++) {
            Scene scene = SyntheticWorld.visibleScene(OPTIONS, new SplittableRandom(seed));
            Rasterizer.Rendering r = Rasterizer.render(scene);
            int n = scene.objects().size();
            assertTrue(n >= 2 && n <= 10, "objects: " + n);
            assertEquals(n, r.objects().size(), "every object kept by dropHidden is visible");

            Mask[] full = new Mask[n];
            for (int k = 0; k < n; k++) {
                full[k] = shapesMask(scene.objects().get(k).parts().stream().flatMap(p -> p.shapes().stream())
                        .toList());
            }
            for (int k = 0; k < n; k++) {
                Mask nearer = Mask.empty(OPTIONS.width(), OPTIONS.height());
                for (int j = k + 1; j < n; j++) {
                    nearer = nearer.union(full[j]);
                }
                Rasterizer.VisibleObject vo = r.objects().get(k);
                assertEquals(full[k].minus(nearer), vo.mask(), "seed " + seed + " object " + k);
                assertTrue(vo.mask().area() >= OPTIONS.minVisiblePixels());

                List<Part> parts = scene.objects().get(k).parts();
                int visibleIndex = 0;
                for (int p = 0; p < parts.size(); p++) {
                    Mask expected = shapesMask(parts.get(p).shapes()).minus(nearer);
                    for (int q = p + 1; q < parts.size(); q++) {
                        expected = expected.minus(shapesMask(parts.get(q).shapes()));
                    }
                    if (expected.isEmpty()) {
                        continue;   // hidden parts are not annotated
                    }
                    Rasterizer.VisiblePart vp = vo.parts().get(visibleIndex++);
                    assertEquals(parts.get(p).name(), vp.part().name());
                    assertEquals(expected, vp.mask(), "seed " + seed + " object " + k + " part " + vp.part().name());
                }
                assertEquals(visibleIndex, vo.parts().size());
            }
            for (int a = 0; a < n; a++) {
                for (int b = 0; b < n; b++) {
                    if (r.hides()[a][b]) {
                        assertTrue(a > b, "only a nearer object hides a farther one");
                        assertFalse(full[a].intersection(full[b]).isEmpty());
                    }
                }
            }
        }
    }

    @Test
    void instanceMasksNeverOverlapAndAreTheUnionOfTheirParts() {
        for (int seed = 100; seed < 110; seed++) {
            Scene scene = SyntheticWorld.visibleScene(OPTIONS, new SplittableRandom(seed));
            Rasterizer.Rendering r = Rasterizer.render(scene);
            Mask covered = Mask.empty(OPTIONS.width(), OPTIONS.height());
            for (Rasterizer.VisibleObject o : r.objects()) {
                assertTrue(covered.intersection(o.mask()).isEmpty(), "instance masks overlap");
                covered = covered.union(o.mask());
                Mask union = Mask.empty(OPTIONS.width(), OPTIONS.height());
                long partArea = 0;
                for (Rasterizer.VisiblePart p : o.parts()) {
                    union = union.union(p.mask());
                    partArea += p.mask().area();
                }
                assertEquals(o.mask(), union);
                assertEquals(o.mask().area(), partArea, "parts of one object do not overlap either");
                // The one-pass encoder agrees with the pycocotools-exact per-mask encoder.
                assertEquals(Rle.encode(o.mask()), o.rle());
                for (Rasterizer.VisiblePart p : o.parts()) {
                    assertEquals(Rle.encode(p.mask()), p.rle());
                }
            }
        }
    }

    @Test
    void smallObjectsAndOcclusionOccur() {
        int occluded = 0, small = 0, objects = 0;
        for (int seed = 0; seed < 40; seed++) {
            Rasterizer.Rendering r = Rasterizer.render(SyntheticWorld.visibleScene(
                    new SyntheticWorld.Options(1, 0, 128, 128, 1), new SplittableRandom(seed)));
            for (int b = 0; b < r.objects().size(); b++) {
                objects++;
                if (r.objects().get(b).object().size() == WorldObject.Size.SMALL) {
                    small++;
                }
                for (int a = 0; a < r.objects().size(); a++) {
                    if (r.hides()[a][b]) {
                        occluded++;
                        break;
                    }
                }
            }
        }
        assertTrue(occluded > objects / 5, occluded + " of " + objects + " objects occluded");
        assertTrue(small > objects / 10, small + " of " + objects + " objects small");
    }

    /** Pixels whose centre lies in any of the shapes, tested directly. */
    private static Mask shapesMask(List<Shape> shapes) {
        return Mask.fromPredicate(OPTIONS.width(), OPTIONS.height(),
                (x, y) -> shapes.stream().anyMatch(s -> s.contains(x + 0.5, y + 0.5)));
    }
}
