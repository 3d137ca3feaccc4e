package osprey4j.data.world;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

import static osprey4j.data.world.Colour.*;

/**
 * Draws random scenes: a background, then 2-10 objects of random categories, sizes, attributes and positions.
 * About a third of the objects are placed next to an earlier one so that occlusion is common, and sizes range
 * from a few percent of the image to half of it.
 */
final class SceneSampler {
    private final int width;
    private final int height;

    SceneSampler(int width, int height) {
        this.width = width;
        this.height = height;
    }

    Scene sample(SplittableRandom rng, int minObjects, int maxObjects) {
        Background bg = background(rng);
        boolean indoor = bg.kind() == Background.Kind.INDOOR;
        int n = rng.nextInt(minObjects, maxObjects + 1);
        List<WorldObject> objects = new ArrayList<>(n);
        List<double[]> placed = new ArrayList<>();   // {cx, baseY, width} of each object so far
        for (int i = 0; i < n; i++) {
            objects.add(place(rng, bg, pickCategory(rng, indoor), placed));
        }
        // Far to near: a larger base row is closer to the viewer. The sort is stable, so ties keep draw order.
        objects.sort(Comparator.comparingDouble(WorldObject::baseY));
        return new Scene(width, height, bg, objects);
    }

    /** The share of scenes that are indoor (see {@link #background}); only indoor categories appear there. */
    private static final double INDOOR_SHARE = 2 / 8.0;

    /**
     * The weight of an outdoor-only category in scenes that are not indoor. Indoor categories can appear in every
     * scene, outdoor-only ones in three of four, so with equal weights indoor ones would be ~60% more frequent.
     * With I indoor and O outdoor-only categories and indoor share p, every category is equally frequent when
     * p/I + (1-p)/(I+Ow) = (1-p)w/(I+Ow), that is w = 1 / ((1-p) - pO/I).
     */
    private static final double OUTDOOR_WEIGHT;

    static {
        long indoorCount = Catalog.CATEGORIES.stream().filter(Category::indoor).count();
        long outdoorOnly = Catalog.CATEGORIES.size() - indoorCount;
        OUTDOOR_WEIGHT = 1 / ((1 - INDOOR_SHARE) - INDOOR_SHARE * outdoorOnly / indoorCount);
    }

    private static Category pickCategory(SplittableRandom rng, boolean indoor) {
        double total = 0;
        for (Category c : Catalog.CATEGORIES) {
            total += weight(c, indoor);
        }
        double r = rng.nextDouble(total);
        for (Category c : Catalog.CATEGORIES) {
            r -= weight(c, indoor);
            if (r < 0) {
                return c;
            }
        }
        return Catalog.CATEGORIES.getLast();   // rounding at the very end of the range
    }

    private static double weight(Category c, boolean indoorScene) {
        return c.indoor() ? 1 : indoorScene ? 0 : OUTDOOR_WEIGHT;
    }

    private WorldObject place(SplittableRandom rng, Background bg, Category cat, List<double[]> placed) {
        double horizon = bg.hasGround() ? bg.horizon() : 0;
        double baseY;
        if (cat.airborne()) {
            baseY = rng.nextDouble(0.2, bg.hasGround() ? Math.max(0.25, horizon / height) : 0.6) * height;
        } else if (bg.hasGround()) {
            baseY = rng.nextDouble(horizon + 0.04 * height, 0.99 * height);
        } else {
            baseY = rng.nextDouble(0.2, 0.99) * height;
        }
        double cx = rng.nextDouble(-0.05, 1.05) * width;
        if (!placed.isEmpty() && rng.nextDouble() < 0.35) {
            // Next to an earlier object, slightly in front of or behind it: heavy occlusion.
            double[] other = placed.get(rng.nextInt(placed.size()));
            cx = other[0] + rng.nextDouble(-0.6, 0.6) * other[2];
            if (!cat.airborne()) {
                baseY = Math.clamp(other[1] + rng.nextDouble(-0.08, 0.08) * height, horizon + 1, height - 1.0);
            }
        }
        double r = rng.nextDouble();
        double fraction = r < 0.3 ? rng.nextDouble(0.05, 0.12) : r < 0.75 ? rng.nextDouble(0.14, 0.28)
                : rng.nextDouble(0.3, 0.5);
        if (bg.hasGround() && !cat.airborne()) {
            fraction *= 0.55 + 0.7 * (baseY - horizon) / Math.max(1, height - horizon);   // perspective
        }
        double size = Math.min(fraction * height, 0.95 * width / cat.aspect());
        size = Math.max(size, 6);
        placed.add(new double[] {cx, baseY, size * cat.aspect()});

        Colour colour = cat.colours().get(rng.nextInt(cat.colours().size()));
        Pattern pattern = cat.patterns().get(rng.nextInt(cat.patterns().size()));
        boolean shaded = rng.nextBoolean();
        Colour accent = colour == WHITE || colour == YELLOW || colour == BEIGE || colour == LIGHT_BLUE ? BLACK : WHITE;
        Paint main = new Paint(colour, colour.jittered(rng, 12), pattern, accent.jittered(rng, 8),
                Math.max(3, size * 0.08), rng.nextInt(4) * Math.PI / 4, shaded, baseY - size, baseY);
        Catalog.Frame frame = new Catalog.Frame(cx, baseY, size, rng.nextBoolean(), main, rng);
        cat.builder().build(frame);
        return new WorldObject(cat, colour, pattern, shaded, sizeOf(size * size * cat.aspect()), baseY, frame.parts);
    }

    /** Small below 2% of the image, large from 12%, by the area of the object's full extent. */
    private WorldObject.Size sizeOf(double extentArea) {
        double f = extentArea / ((double) width * height);
        return f < 0.02 ? WorldObject.Size.SMALL : f < 0.12 ? WorldObject.Size.MEDIUM : WorldObject.Size.LARGE;
    }

    private Background background(SplittableRandom rng) {
        long noise = rng.nextLong();
        return switch (rng.nextInt(8)) {   // 4/8 outdoor, 2/8 indoor (INDOOR_SHARE), 1/8 gradient, 1/8 texture
            case 0, 1, 2, 3 -> {
                int sky = rng.nextInt(4);
                int ground = rng.nextInt(4);
                Colour[] skies = {BLUE, LIGHT_BLUE, ORANGE, GRAY};
                String[] skyWords = {"under a deep blue sky", "under a clear pale blue sky",
                        "under an orange evening sky",
                        "under a gray sky"};
                Colour[] grounds = {GREEN, BEIGE, WHITE, BROWN};
                String[] groundWords = {"on green grass", "on sand", "on snow", "on brown earth"};
                yield new Background(Background.Kind.OUTDOOR, skies[sky].jittered(rng, 10),
                        grounds[ground].jittered(rng, 10), rng.nextDouble(0.3, 0.55) * height, noise, false,
                        skyWords[sky] + " " + groundWords[ground]);
            }
            case 4, 5 -> {
                Colour wall = List.of(BEIGE, WHITE, LIGHT_BLUE, PINK, YELLOW, GRAY).get(rng.nextInt(6));
                boolean tiled = rng.nextBoolean();
                Colour floor = tiled ? GRAY : BROWN;
                yield new Background(Background.Kind.INDOOR, wall.jittered(rng, 10), floor.jittered(rng, 10),
                        rng.nextDouble(0.3, 0.55) * height, noise, tiled, "in a room with " + article(wall.word) + " "
                        + wall.word + " wall and " + (tiled ? "a tiled floor" : "a wooden floor"));
            }
            case 6 -> {
                Colour top = List.of(BLUE, PURPLE, GREEN, GRAY, ORANGE).get(rng.nextInt(5));
                Colour bottom = List.of(WHITE, YELLOW, PINK, LIGHT_BLUE).get(rng.nextInt(4));
                yield new Background(Background.Kind.GRADIENT, top.rgb, bottom.rgb, 0, noise, false,
                        "against a background that fades from " + top.word + " to " + bottom.word);
            }
            default -> {
                Colour c = List.of(GREEN, GRAY, BEIGE, BLUE, BROWN).get(rng.nextInt(5));
                yield new Background(Background.Kind.TEXTURE, c.rgb, c.rgb, 0, noise, false,
                        "against a mottled " + c.word + " background");
            }
        };
    }

    static String article(String word) {
        return "aeiou".indexOf(Character.toLowerCase(word.charAt(0))) >= 0 ? "an" : "a";
    }
}
