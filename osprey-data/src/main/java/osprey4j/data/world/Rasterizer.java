package osprey4j.data.world;

import osprey4j.core.mask.Mask;
import osprey4j.core.mask.Rle;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Paints a scene and derives its masks from the same pass, so the masks are exact by construction.
 *
 * <p>Objects are painted far to near and, within an object, part by part; each pixel keeps the label of the last
 * part painted over it. That label buffer is the single source of truth: a part's mask is the set of pixels that
 * kept its label (its visible pixels only), an object's mask is the union of its parts', and the colours are
 * computed from the labels afterwards. Objects whose visible area falls under the threshold are removed and the
 * labels recomputed without them, so nothing in the image goes unannotated.
 */
final class Rasterizer {
    private Rasterizer() {
    }

    /** A visible part, its visible pixels (never empty) and their COCO RLE. */
    record VisiblePart(Part part, Mask mask, Rle rle) {
    }

    /** A surviving object with its visible pixels, their COCO RLE, and its visible parts in painting order. */
    record VisibleObject(WorldObject object, Mask mask, Rle rle, List<VisiblePart> parts) {
    }

    /**
     * The painted image (0xRRGGBB per pixel, row-major), the objects far to near, and which objects hide which:
     * {@code hides[a][b]} when object a covers at least one pixel of object b's full shape.
     */
    record Rendering(int width, int height, int[] rgb, Background background, List<VisibleObject> objects,
                     boolean[][] hides) {
    }

    /** Labels per pixel: the index of the visible part there in {@code parts}, or -1 for background. */
    private record Labels(int[] label, List<Part> parts, int[] objectOfPart, long[] objectArea, boolean[][] hides) {
    }

    /** The scene without objects whose visible area is under {@code minVisiblePixels}. */
    static Scene dropHidden(Scene scene, long minVisiblePixels) {
        Labels labels = label(scene);
        List<WorldObject> kept = new ArrayList<>();
        for (int k = 0; k < scene.objects().size(); k++) {
            if (labels.objectArea[k] >= minVisiblePixels) {
                kept.add(scene.objects().get(k));
            }
        }
        return kept.size() == scene.objects().size() ? scene : scene.withObjects(kept);
    }

    /** Paints every object of the scene (call {@link #dropHidden} first to keep only visible ones). */
    static Rendering render(Scene scene) {
        int w = scene.width();
        int h = scene.height();
        Labels labels = label(scene);
        int[] label = labels.label;
        List<Part> parts = labels.parts;

        int[] rgb = new int[w * h];
        Mask.Builder[] builders = new Mask.Builder[parts.size()];
        boolean[] seen = new boolean[parts.size()];
        for (int y = 0; y < h; y++) {
            int row = y * w;
            scene.background().paintRow(rgb, row, w, y, h);
            for (int x = 0; x < w; x++) {
                int p = label[row + x];
                if (p < 0) {
                    continue;
                }
                int c = parts.get(p).paint().colourAt(x, y);
                if (isEdge(label, w, h, x, y, p)) {
                    c = Paint.scale(c, 0.6);   // a dark outline separates same-coloured parts; masks are unaffected
                }
                rgb[row + x] = c;
                if (!seen[p]) {
                    seen[p] = true;
                    builders[p] = Mask.builder(w, h);
                }
                builders[p].set(x, y);
            }
        }

        int[] identity = new int[parts.size()];
        Arrays.setAll(identity, i -> i);
        Rle[] partRle = LabelRuns.encode(label, w, h, identity, parts.size());
        Rle[] objectRle = LabelRuns.encode(label, w, h, labels.objectOfPart, scene.objects().size());

        List<VisibleObject> objects = new ArrayList<>();
        int[] newIndex = new int[scene.objects().size()];
        int p = 0;
        for (int k = 0; k < scene.objects().size(); k++) {
            WorldObject o = scene.objects().get(k);
            List<VisiblePart> visible = new ArrayList<>();
            Mask union = null;
            for (Part part : o.parts()) {
                if (seen[p]) {
                    Mask m = builders[p].build();
                    visible.add(new VisiblePart(part, m, partRle[p]));
                    union = union == null ? m : union.union(m);
                }
                p++;
            }
            newIndex[k] = union == null ? -1 : objects.size();
            if (union != null) {
                objects.add(new VisibleObject(o, union, objectRle[k], visible));
            }
        }
        boolean[][] hides = new boolean[objects.size()][objects.size()];
        for (int a = 0; a < newIndex.length; a++) {
            for (int b = 0; b < newIndex.length; b++) {
                if (labels.hides[a][b] && newIndex[a] >= 0 && newIndex[b] >= 0) {
                    hides[newIndex[a]][newIndex[b]] = true;
                }
            }
        }
        return new Rendering(w, h, rgb, scene.background(), List.copyOf(objects), hides);
    }

    private static boolean isEdge(int[] label, int w, int h, int x, int y, int p) {
        int i = y * w + x;
        return x > 0 && label[i - 1] != p || x < w - 1 && label[i + 1] != p
                || y > 0 && label[i - w] != p || y < h - 1 && label[i + w] != p;
    }

    private static Labels label(Scene scene) {
        int w = scene.width();
        int h = scene.height();
        int n = scene.objects().size();
        int[] label = new int[w * h];
        Arrays.fill(label, -1);
        List<Part> parts = new ArrayList<>();
        int[] objectOfPart = new int[scene.objects().stream().mapToInt(o -> o.parts().size()).sum()];
        boolean[][] hides = new boolean[n][n];
        for (int k = 0; k < n; k++) {
            for (Part part : scene.objects().get(k).parts()) {
                int p = parts.size();
                parts.add(part);
                objectOfPart[p] = k;
                for (Shape s : part.shapes()) {
                    fill(s, w, h, label, p, objectOfPart, k, hides);
                }
            }
        }
        long[] area = new long[n];
        for (int l : label) {
            if (l >= 0) {
                area[objectOfPart[l]]++;
            }
        }
        return new Labels(label, List.copyOf(parts), objectOfPart, area, hides);
    }

    /** Sets the label of every pixel whose centre lies in the shape, noting which objects it covers. */
    private static void fill(Shape s, int w, int h, int[] label, int p, int[] owner, int k, boolean[][] hides) {
        double[] b = s.bounds();
        int x0 = Math.max(0, (int) Math.floor(b[0] - 0.5));
        int y0 = Math.max(0, (int) Math.floor(b[1] - 0.5));
        int x1 = Math.min(w - 1, (int) Math.ceil(b[2]));
        int y1 = Math.min(h - 1, (int) Math.ceil(b[3]));
        for (int y = y0; y <= y1; y++) {
            double cy = y + 0.5;
            int row = y * w;
            for (int x = x0; x <= x1; x++) {
                if (s.contains(x + 0.5, cy)) {
                    int prev = label[row + x];
                    if (prev >= 0 && owner[prev] != k) {
                        hides[k][owner[prev]] = true;
                    }
                    label[row + x] = p;
                }
            }
        }
    }
}
