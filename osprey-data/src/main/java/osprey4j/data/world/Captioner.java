package osprey4j.data.world;

import osprey4j.core.mask.Mask;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes captions that are true of a rendering: what is in it (with counts and attributes), the background,
 * which object is in front of which (from the rasteriser's record of who covered whom), which is left of which
 * (from disjoint visible extents), and which parts of an object are visible. Statements about single objects
 * use the indefinite article, so they stay true when two objects look alike.
 */
final class Captioner {
    private static final String[] NUMBERS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
            "nine", "ten", "eleven", "twelve"};
    private static final String[] OPENINGS = {"A scene with", "A picture of", "An image showing", "A view of"};

    private Captioner() {
    }

    static List<String> captions(Rasterizer.Rendering r, SplittableRandom rng) {
        List<Rasterizer.VisibleObject> objects = r.objects();
        List<String> out = new ArrayList<>();
        String opening = OPENINGS[rng.nextInt(OPENINGS.length)];
        out.add(opening + " " + inventory(objects) + " " + r.background().phrase() + ".");
        out.add(capitalise(count(objects.size())) + " objects can be seen " + r.background().phrase() + ".");

        List<int[]> inFront = new ArrayList<>();
        for (int a = 0; a < objects.size(); a++) {
            for (int b = 0; b < objects.size(); b++) {
                if (r.hides()[a][b]) {
                    inFront.add(new int[] {a, b});
                }
            }
        }
        if (!inFront.isEmpty()) {
            int[] pair = inFront.get(rng.nextInt(inFront.size()));
            out.add(capitalise(indefinite(objects.get(pair[0]).object())) + " is in front of "
                    + indefinite(objects.get(pair[1]).object()) + ", hiding part of it.");
        }

        List<int[]> leftOf = new ArrayList<>();
        for (int a = 0; a < objects.size(); a++) {
            Mask.Box ba = objects.get(a).mask().bbox();
            for (int b = 0; b < objects.size(); b++) {
                Mask.Box bb = objects.get(b).mask().bbox();
                if (a != b && ba.x() + ba.width() <= bb.x()) {
                    leftOf.add(new int[] {a, b});
                }
            }
        }
        if (!leftOf.isEmpty()) {
            int[] pair = leftOf.get(rng.nextInt(leftOf.size()));
            out.add(capitalise(indefinite(objects.get(pair[0]).object())) + " is to the left of "
                    + indefinite(objects.get(pair[1]).object()) + ".");
        }

        List<Rasterizer.VisibleObject> multiPart = objects.stream().filter(o -> o.parts().size() >= 2).toList();
        if (!multiPart.isEmpty()) {
            Rasterizer.VisibleObject o = multiPart.get(rng.nextInt(multiPart.size()));
            List<String> parts = o.parts().stream().map(p -> "the " + p.part().name().replace('_', ' ')).distinct()
                    .toList();
            out.add("One can see " + join(parts) + " of " + indefinite(o.object()) + ".");
        }
        return out;
    }

    /** "two cats, a large blue bus and a small green tree", categories in painting order. */
    static String inventory(List<Rasterizer.VisibleObject> objects) {
        Map<String, List<WorldObject>> byCategory = new LinkedHashMap<>();
        for (Rasterizer.VisibleObject o : objects) {
            byCategory.computeIfAbsent(o.object().category().name(), k -> new ArrayList<>()).add(o.object());
        }
        List<String> items = new ArrayList<>();
        byCategory.forEach((name, list) -> items.add(list.size() == 1 ? indefinite(list.getFirst())
                : count(list.size()) + " " + plural(name)));
        return join(items);
    }

    /** "a small red striped mug": size unless medium, colour, pattern unless plain, category. */
    static String indefinite(WorldObject o) {
        StringBuilder d = new StringBuilder();
        if (o.size() != WorldObject.Size.MEDIUM) {
            d.append(o.size().word).append(' ');
        }
        d.append(o.colour().word).append(' ');
        if (o.pattern() != Pattern.PLAIN) {
            d.append(o.pattern().word).append(' ');
        }
        d.append(o.category().name());
        return SceneSampler.article(d.toString()) + " " + d;
    }

    static String plural(String noun) {
        return noun.endsWith("s") || noun.endsWith("x") || noun.endsWith("sh") || noun.endsWith("ch")
                ? noun + "es" : noun + "s";
    }

    static String count(int n) {
        return n < NUMBERS.length ? NUMBERS[n] : Integer.toString(n);
    }

    static String join(List<String> items) {
        if (items.size() == 1) {
            return items.getFirst();
        }
        return String.join(", ", items.subList(0, items.size() - 1)) + " and " + items.getLast();
    }

    static String capitalise(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
