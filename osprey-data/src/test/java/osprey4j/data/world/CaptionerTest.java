package osprey4j.data.world;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CaptionerTest {
    @Test
    void grammar() {
        assertEquals("buses", Captioner.plural("bus"));
        assertEquals("foxes", Captioner.plural("fox"));
        assertEquals("bushes", Captioner.plural("bush"));
        assertEquals("mugs", Captioner.plural("mug"));
        assertEquals("an", SceneSampler.article("orange cat"));
        assertEquals("a", SceneSampler.article("small umbrella"));
        assertEquals("an", SceneSampler.article("umbrella"));
        assertEquals("two, three and four", Captioner.join(List.of("two", "three", "four")));
    }

    @Test
    void captionsAreTrueToTheScene() {
        SyntheticWorld.Options o = new SyntheticWorld.Options(1, 0, 128, 128, 1);
        for (int seed = 0; seed < 30; seed++) {
            Rasterizer.Rendering r = Rasterizer.render(SyntheticWorld.visibleScene(o, new SplittableRandom(seed)));
            List<String> caps = Captioner.captions(r, new SplittableRandom(seed));
            assertTrue(caps.size() >= 3 && caps.size() <= 5, caps.toString());
            String overview = caps.getFirst();
            for (Rasterizer.VisibleObject v : r.objects()) {
                String name = v.object().category().name();
                long same = r.objects().stream().filter(x -> x.object().category() == v.object().category()).count();
                String expected = same == 1 ? Captioner.indefinite(v.object())
                        : Captioner.count((int) same) + " " + Captioner.plural(name);
                assertTrue(overview.contains(expected), overview + " should mention " + expected);
            }
            assertTrue(caps.get(1).startsWith(Captioner.capitalise(Captioner.count(r.objects().size())) + " objects"));
            for (String c : caps) {
                assertTrue(Character.isUpperCase(c.charAt(0)) && c.endsWith("."), c);
                assertTrue(!c.contains("  ") && !c.contains(" ,"), c);
            }
        }
    }
}
