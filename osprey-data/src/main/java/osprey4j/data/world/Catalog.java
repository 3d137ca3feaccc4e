package osprey4j.data.world;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static osprey4j.data.world.Colour.*;

/**
 * The categories of the synthetic world and how to draw each one. Names deliberately overlap in meaning
 * (cup/mug/bowl/vase, car/truck/bus/van, dog/cat/fox, house/barn/tower, tree/bush, chair/stool/table,
 * ball/balloon, bottle/can, kite/umbrella) so that telling them apart needs the region, not just the scene.
 *
 * <p>Each builder draws in an object frame: {@code u} runs to the right and {@code v} upwards, both in units of
 * the object's height, with (0, 0) the middle of its base. Objects face right; a flipped frame mirrors them.
 */
final class Catalog {
    private Catalog() {
    }

    /** Draws one object into a frame. */
    @FunctionalInterface
    interface Builder {
        void build(Frame f);
    }

    private static final List<Colour> BRIGHT = List.of(RED, ORANGE, YELLOW, GREEN, BLUE, PURPLE, PINK, WHITE,
            BLACK, GRAY);
    private static final List<Pattern> ANY_PATTERN = List.of(Pattern.PLAIN, Pattern.PLAIN, Pattern.STRIPED,
            Pattern.DOTTED);
    private static final List<Pattern> PLAIN = List.of(Pattern.PLAIN);

    static final List<Category> CATEGORIES = build();

    private static List<Category> build() {
        List<Category> c = new ArrayList<>();
        // Kitchenware: cup, mug, bowl, vase, bottle, can.
        add(c, "cup", "kitchenware", List.of("handle", "body"), 1.2, BRIGHT, ANY_PATTERN, true, false, f -> {
            f.part("handle", f.main, ring(f, 0.42, 0.5, 0.2, 0.24, 0.11, 0.14));
            f.part("body", f.main, f.poly(-0.45, 0.85, 0.45, 0.85, 0.33, 0, -0.33, 0));
        });
        add(c, "mug", "kitchenware", List.of("handle", "body"), 1.1, BRIGHT, ANY_PATTERN, true, false, f -> {
            f.part("handle", f.main, ring(f, 0.38, 0.5, 0.27, 0.3, 0.15, 0.18));
            f.part("body", f.main, f.round(-0.38, 0, 0.38, 1.0, 0.05));
        });
        add(c, "bowl", "kitchenware", List.of("base", "body", "rim"), 1.9, BRIGHT, ANY_PATTERN, true, false, f -> {
            f.part("base", f.main, f.rect(-0.3, 0, 0.3, 0.1));
            f.part("body", f.main, f.arc(0, 0.7, 0.95, 0.62, Math.PI, 2 * Math.PI, 16));
            f.part("rim", f.main, f.ell(0, 0.7, 0.95, 0.12));
        });
        add(c, "vase", "kitchenware", List.of("neck", "body", "mouth"), 0.75, BRIGHT, ANY_PATTERN, true, false, f -> {
            f.part("neck", f.main, f.rect(-0.12, 0.55, 0.12, 0.92));
            f.part("body", f.main, f.ell(0, 0.36, 0.36, 0.36));
            f.part("mouth", f.main, f.round(-0.2, 0.88, 0.2, 1.0, 0.03));
        });
        add(c, "bottle", "kitchenware", List.of("body", "neck", "label", "cap"), 0.42, List.of(GREEN, BROWN, BLUE,
                WHITE, LIGHT_BLUE), PLAIN, true, false, f -> {
            f.part("body", f.main, f.round(-0.2, 0, 0.2, 0.62, 0.05));
            f.part("neck", f.main, f.poly(-0.2, 0.6, 0.2, 0.6, 0.08, 0.78, 0.08, 0.9, -0.08, 0.9, -0.08, 0.78));
            f.part("label", f.fixed(f.pick(WHITE, YELLOW, RED)), f.rect(-0.2, 0.18, 0.2, 0.44));
            f.part("cap", f.fixed(f.pick(RED, WHITE, BLACK, YELLOW)), f.rect(-0.09, 0.9, 0.09, 1.0));
        });
        add(c, "can", "kitchenware", List.of("body", "label", "lid"), 0.62, BRIGHT, ANY_PATTERN, true, false, f -> {
            f.part("body", f.fixed(GRAY), f.rect(-0.3, 0.04, 0.3, 0.96));
            f.part("label", f.main, f.rect(-0.3, 0.25, 0.3, 0.75));
            f.part("lid", f.fixed(WHITE), f.ell(0, 0.94, 0.3, 0.06));
        });
        // Vehicles: car, truck, bus, van.
        List<Colour> paintwork = List.of(RED, BLUE, YELLOW, GREEN, WHITE, BLACK, GRAY, ORANGE);
        add(c, "car", "vehicle", List.of("body", "roof", "window", "wheel", "headlight"), 2.2, paintwork,
                ANY_PATTERN, false, false, f -> {
            f.part("body", f.main, f.round(-1.1, 0.15, 1.1, 0.6, 0.1));
            f.part("roof", f.main, f.poly(-0.6, 0.58, 0.6, 0.58, 0.35, 1.0, -0.35, 1.0));
            f.part("window", f.fixed(LIGHT_BLUE), f.poly(-0.5, 0.62, 0.5, 0.62, 0.3, 0.92, -0.3, 0.92));
            f.part("wheel", f.fixed(BLACK), f.ell(-0.65, 0.2, 0.2, 0.2), f.ell(0.65, 0.2, 0.2, 0.2));
            f.part("headlight", f.fixed(YELLOW), f.ell(1.02, 0.45, 0.07, 0.06));
        });
        add(c, "truck", "vehicle", List.of("bumper", "cargo_box", "cab", "window", "wheel"), 2.6, paintwork,
                ANY_PATTERN, false, false, f -> {
            f.part("bumper", f.fixed(GRAY), f.rect(-1.3, 0.14, 1.34, 0.26));
            f.part("cargo_box", f.fixed(f.pick(WHITE, GRAY, BROWN)), f.rect(-1.3, 0.24, 0.4, 1.0));
            f.part("cab", f.main, f.round(0.42, 0.24, 1.3, 0.78, 0.08));
            f.part("window", f.fixed(LIGHT_BLUE), f.rect(0.8, 0.5, 1.2, 0.7));
            f.part("wheel", f.fixed(BLACK), f.ell(-0.95, 0.17, 0.17, 0.17), f.ell(-0.5, 0.17, 0.17, 0.17),
                    f.ell(0.9, 0.17, 0.17, 0.17));
        });
        add(c, "bus", "vehicle", List.of("body", "window", "door", "wheel"), 3.0, paintwork, ANY_PATTERN, false,
                false, f -> {
            f.part("body", f.main, f.round(-1.5, 0.12, 1.5, 1.0, 0.12));
            List<Shape> windows = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                double u = -1.35 + i * 0.46;
                windows.add(f.rect(u, 0.55, u + 0.36, 0.85));
            }
            f.part("window", f.fixed(LIGHT_BLUE), windows.toArray(Shape[]::new));
            f.part("door", f.fixed(GRAY), f.rect(1.05, 0.16, 1.38, 0.88));
            f.part("wheel", f.fixed(BLACK), f.ell(-1.0, 0.15, 0.16, 0.16), f.ell(0.7, 0.15, 0.16, 0.16));
        });
        add(c, "van", "vehicle", List.of("body", "door", "window", "wheel"), 2.2, paintwork, ANY_PATTERN, false,
                false, f -> {
            f.part("body", f.main, f.poly(-1.1, 0.15, 1.1, 0.15, 1.1, 0.55, 0.7, 0.98, -1.1, 0.98));
            f.part("door", f.main, f.rect(-0.25, 0.2, 0.35, 0.9));
            f.part("window", f.fixed(LIGHT_BLUE), f.poly(0.45, 0.58, 1.0, 0.58, 0.7, 0.88, 0.45, 0.88),
                    f.rect(-0.95, 0.58, -0.35, 0.85));
            f.part("wheel", f.fixed(BLACK), f.ell(-0.65, 0.18, 0.18, 0.18), f.ell(0.7, 0.18, 0.18, 0.18));
        });
        // Animals: dog, cat, fox (facing right).
        add(c, "dog", "animal", List.of("tail", "leg", "body", "head", "ear"), 1.9, List.of(BROWN, BLACK, WHITE,
                GRAY, BEIGE), List.of(Pattern.PLAIN, Pattern.PLAIN, Pattern.DOTTED), true, false, f -> {
            f.part("tail", f.main, f.poly(-0.55, 0.6, -0.92, 0.92, -0.84, 0.98, -0.48, 0.7));
            f.part("leg", f.main, f.rect(-0.48, 0, -0.36, 0.45), f.rect(-0.28, 0, -0.16, 0.45),
                    f.rect(0.2, 0, 0.32, 0.45), f.rect(0.4, 0, 0.52, 0.45));
            f.part("body", f.main, f.ell(0, 0.52, 0.62, 0.24));
            f.part("head", f.main, f.ell(0.72, 0.8, 0.24, 0.19), f.ell(0.93, 0.74, 0.12, 0.08));
            f.part("ear", f.fixed(f.pick(BROWN, BLACK)), f.ell(0.62, 0.76, 0.08, 0.16));
        });
        add(c, "cat", "animal", List.of("tail", "leg", "body", "ear", "head"), 1.6, List.of(ORANGE, BLACK, WHITE,
                GRAY, BROWN), List.of(Pattern.PLAIN, Pattern.STRIPED), true, false, f -> {
            f.part("tail", f.main, f.poly(-0.45, 0.5, -0.75, 0.7, -0.7, 1.0, -0.63, 1.0, -0.67, 0.72, -0.45, 0.42));
            f.part("leg", f.main, f.rect(-0.38, 0, -0.3, 0.4), f.rect(-0.22, 0, -0.14, 0.4),
                    f.rect(0.16, 0, 0.24, 0.4), f.rect(0.32, 0, 0.4, 0.4));
            f.part("body", f.main, f.ell(0, 0.45, 0.5, 0.19));
            f.part("ear", f.main, f.poly(0.44, 0.8, 0.5, 1.0, 0.6, 0.88), f.poly(0.64, 0.88, 0.74, 1.0, 0.78, 0.8));
            f.part("head", f.main, f.ell(0.6, 0.74, 0.2, 0.17));
        });
        add(c, "fox", "animal", List.of("tail", "leg", "body", "ear", "head"), 2.0, List.of(ORANGE, RED, BROWN),
                PLAIN, false, false, f -> {
            f.part("tail", f.main, f.ell(-0.82, 0.45, 0.42, 0.14));
            f.part("leg", f.fixed(BLACK), f.rect(-0.4, 0, -0.33, 0.4), f.rect(-0.25, 0, -0.18, 0.4),
                    f.rect(0.2, 0, 0.27, 0.4), f.rect(0.35, 0, 0.42, 0.4));
            f.part("body", f.main, f.ell(0, 0.46, 0.58, 0.2));
            f.part("ear", f.main, f.poly(0.52, 0.8, 0.56, 1.0, 0.66, 0.84), f.poly(0.7, 0.84, 0.78, 1.0, 0.82, 0.8));
            f.part("head", f.main, f.poly(0.48, 0.66, 0.64, 0.88, 0.84, 0.84, 1.0, 0.68, 0.7, 0.56));
        });
        // Buildings: house, barn, tower.
        add(c, "house", "building", List.of("chimney", "wall", "roof", "door", "window"), 1.3, List.of(WHITE, BEIGE,
                YELLOW, BLUE, GRAY, PINK), PLAIN, false, false, f -> {
            f.part("chimney", f.fixed(f.pick(RED, BROWN, GRAY)), f.rect(0.3, 0.7, 0.42, 0.98));
            f.part("wall", f.main, f.rect(-0.6, 0, 0.6, 0.6));
            f.part("roof", f.fixed(f.pick(RED, BROWN, GRAY, BLACK)), f.poly(-0.72, 0.58, 0.72, 0.58, 0, 1.0));
            f.part("door", f.fixed(f.pick(BROWN, RED, GREEN, BLUE)), f.rect(-0.1, 0, 0.12, 0.36));
            f.part("window", f.fixed(LIGHT_BLUE), f.rect(-0.46, 0.3, -0.22, 0.48), f.rect(0.26, 0.3, 0.5, 0.48));
        });
        add(c, "barn", "building", List.of("wall", "roof", "door", "window"), 1.5, List.of(RED, BROWN), PLAIN, false,
                false, f -> {
            f.part("wall", f.main, f.rect(-0.7, 0, 0.7, 0.56));
            f.part("roof", f.fixed(f.pick(GRAY, BLACK, BROWN)), f.poly(-0.78, 0.54, 0.78, 0.54, 0.56, 0.86, 0, 1.0,
                    -0.56, 0.86));
            f.part("door", f.fixed(WHITE), f.rect(-0.26, 0, 0.26, 0.42));
            f.part("window", f.fixed(WHITE), f.rect(-0.1, 0.64, 0.1, 0.8));
        });
        add(c, "tower", "building", List.of("body", "roof", "window", "door"), 0.6, List.of(GRAY, BEIGE, WHITE),
                PLAIN, false, false, f -> {
            f.part("body", f.main, f.rect(-0.22, 0, 0.22, 0.8));
            f.part("roof", f.fixed(f.pick(RED, BLUE, GRAY)), f.poly(-0.29, 0.78, 0.29, 0.78, 0, 1.0));
            f.part("window", f.fixed(f.pick(LIGHT_BLUE, BLACK)), f.rect(-0.06, 0.3, 0.06, 0.4),
                    f.rect(-0.06, 0.55, 0.06, 0.65));
            f.part("door", f.fixed(BROWN), f.round(-0.09, 0, 0.09, 0.16, 0.04));
        });
        // Plants: tree, bush.
        add(c, "tree", "plant", List.of("trunk", "crown"), 0.8, List.of(GREEN, DARK_GREEN, YELLOW), PLAIN,
                false, false, f -> {
            f.part("trunk", f.fixed(BROWN), f.rect(-0.07, 0, 0.07, 0.55));
            f.part("crown", f.main, f.ell(0, 0.72, 0.34, 0.28), f.ell(-0.2, 0.58, 0.22, 0.18),
                    f.ell(0.2, 0.58, 0.22, 0.18));
        });
        add(c, "bush", "plant", List.of("foliage", "flower"), 2.2, List.of(GREEN, DARK_GREEN), PLAIN, false, false,
                f -> {
            f.part("foliage", f.main, f.ell(0, 0.5, 0.7, 0.5), f.ell(-0.5, 0.32, 0.4, 0.32),
                    f.ell(0.5, 0.32, 0.4, 0.32));
            if (f.rng.nextBoolean()) {
                int n = f.rng.nextInt(3, 7);
                Shape[] flowers = new Shape[n];
                for (int i = 0; i < n; i++) {
                    flowers[i] = f.ell(f.rng.nextDouble(-0.6, 0.6), f.rng.nextDouble(0.2, 0.8), 0.07, 0.07);
                }
                f.part("flower", f.fixed(f.pick(RED, PINK, YELLOW, WHITE)), flowers);
            }
        });
        // Furniture: chair, stool, table, lamp.
        List<Colour> wood = List.of(BROWN, WHITE, BLACK, RED, BLUE, GRAY);
        add(c, "chair", "furniture", List.of("leg", "back", "seat"), 0.65, wood, List.of(Pattern.PLAIN,
                Pattern.STRIPED), true, false, f -> {
            f.part("leg", f.main, f.rect(-0.3, 0, -0.24, 0.46), f.rect(0.24, 0, 0.3, 0.46));
            f.part("back", f.main, f.rect(-0.28, 0.52, 0.28, 1.0));
            f.part("seat", f.fixed(f.pick(BEIGE, RED, BLUE, GRAY)), f.rect(-0.32, 0.44, 0.32, 0.54));
        });
        add(c, "stool", "furniture", List.of("leg", "footrest", "seat"), 0.65, wood, PLAIN, true, false, f -> {
            f.part("leg", f.main, f.poly(-0.3, 0, -0.24, 0, -0.16, 0.82, -0.22, 0.82),
                    f.poly(0.3, 0, 0.24, 0, 0.16, 0.82, 0.22, 0.82), f.rect(-0.03, 0, 0.03, 0.82));
            f.part("footrest", f.main, f.rect(-0.26, 0.3, 0.26, 0.36));
            f.part("seat", f.main, f.round(-0.32, 0.8, 0.32, 0.95, 0.05));
        });
        add(c, "table", "furniture", List.of("leg", "apron", "top"), 1.7, wood, PLAIN, true, false, f -> {
            f.part("leg", f.main, f.rect(-0.72, 0, -0.64, 0.86), f.rect(0.64, 0, 0.72, 0.86));
            f.part("apron", f.main, f.rect(-0.72, 0.76, 0.72, 0.86));
            f.part("top", f.main, f.rect(-0.85, 0.86, 0.85, 1.0));
        });
        add(c, "lamp", "furniture", List.of("base", "pole", "shade"), 0.65, List.of(WHITE, BEIGE, YELLOW, RED,
                BLUE), List.of(Pattern.PLAIN, Pattern.STRIPED), true, false, f -> {
            f.part("base", f.fixed(f.pick(BLACK, GRAY, BROWN)), f.ell(0, 0.05, 0.24, 0.05));
            f.part("pole", f.fixed(f.pick(BLACK, GRAY)), f.rect(-0.03, 0.06, 0.03, 0.68));
            f.part("shade", f.main, f.poly(-0.32, 0.64, 0.32, 0.64, 0.18, 1.0, -0.18, 1.0));
        });
        // Toys and outdoor things: ball, balloon, kite, umbrella.
        add(c, "ball", "toy", List.of("body", "band"), 1.0, BRIGHT, List.of(Pattern.PLAIN, Pattern.DOTTED), true,
                false, f -> {
            Shape body = f.ell(0, 0.5, 0.5, 0.5);
            f.part("body", f.main, body);
            f.part("band", f.fixed(f.pick(WHITE, BLACK, YELLOW)),
                    new Shape.Intersection(body, f.rect(-0.5, 0.42, 0.5, 0.58)));
        });
        add(c, "balloon", "toy", List.of("string", "knot", "body"), 0.45, List.of(RED, BLUE, YELLOW, GREEN, PINK,
                PURPLE, ORANGE), PLAIN, true, true, f -> {
            f.part("string", f.fixed(f.pick(WHITE, GRAY)), f.rect(-0.012, 0, 0.012, 0.46));
            f.part("knot", f.main, f.poly(-0.045, 0.42, 0.045, 0.42, 0, 0.48));
            f.part("body", f.main, f.ell(0, 0.73, 0.22, 0.27));
        });
        add(c, "kite", "toy", List.of("string", "tail", "sail"), 0.75, BRIGHT, ANY_PATTERN, false, true, f -> {
            f.part("string", f.fixed(GRAY), f.poly(0, 0.32, 0.02, 0.32, -0.3, 0, -0.32, 0));
            List<Shape> bows = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                double v = 0.26 - i * 0.09;
                double u = -0.09 - i * 0.08;
                bows.add(f.poly(u - 0.06, v + 0.03, u + 0.06, v - 0.03, u + 0.06, v + 0.03, u - 0.06, v - 0.03));
            }
            f.part("tail", f.fixed(f.pick(RED, YELLOW, BLUE)), bows.toArray(Shape[]::new));
            f.part("sail", f.main, f.poly(0, 1.0, 0.36, 0.68, 0, 0.3, -0.36, 0.68));
        });
        add(c, "umbrella", "toy", List.of("handle", "shaft", "canopy"), 1.25, BRIGHT, ANY_PATTERN, false, false,
                f -> {
            f.part("handle", f.fixed(f.pick(BLACK, BROWN)), new Shape.Intersection(ring(f, 0.08, 0.1, 0.1, 0.1,
                    0.055, 0.055), f.rect(-0.05, 0, 0.2, 0.1)));
            f.part("shaft", f.fixed(f.pick(BLACK, GRAY)), f.rect(-0.025, 0.08, 0.025, 0.74));
            f.part("canopy", f.main, f.arc(0, 0.7, 0.62, 0.3, 0, Math.PI, 18));
        });
        return List.copyOf(c);
    }

    private static void add(List<Category> out, String name, String supercategory, List<String> parts, double aspect,
                            List<Colour> colours, List<Pattern> patterns, boolean indoor, boolean airborne,
                            Builder builder) {
        out.add(new Category(out.size() + 1, name, supercategory, parts, aspect, colours, patterns, indoor, airborne,
                builder));
    }

    /** An elliptical ring: the outer ellipse less the inner one, both centred at (u, v). */
    private static Shape ring(Frame f, double u, double v, double ru, double rv, double innerU, double innerV) {
        return new Shape.Difference(f.ell(u, v, ru, rv), f.ell(u, v, innerU, innerV));
    }

    /**
     * Where an object is drawn: a base point, a height in pixels and a facing, plus the object's main paint and
     * random source. Collects the parts a builder draws.
     */
    static final class Frame {
        final double cx;
        final double baseY;
        final double size;
        final boolean flip;
        final Paint main;
        final SplittableRandom rng;
        final List<Part> parts = new ArrayList<>();

        Frame(double cx, double baseY, double size, boolean flip, Paint main, SplittableRandom rng) {
            this.cx = cx;
            this.baseY = baseY;
            this.size = size;
            this.flip = flip;
            this.main = main;
            this.rng = rng;
        }

        double x(double u) {
            return cx + (flip ? -u : u) * size;
        }

        double y(double v) {
            return baseY - v * size;
        }

        Shape ell(double u, double v, double ru, double rv) {
            return new Shape.Ellipse(x(u), y(v), ru * size, rv * size);
        }

        Shape rect(double u0, double v0, double u1, double v1) {
            return round(u0, v0, u1, v1, 0);
        }

        Shape round(double u0, double v0, double u1, double v1, double r) {
            return new Shape.RoundedRect(Math.min(x(u0), x(u1)), y(v1), Math.max(x(u0), x(u1)), y(v0), r * size);
        }

        /** A polygon from (u, v) pairs. */
        Shape poly(double... uv) {
            double[] xs = new double[uv.length / 2];
            double[] ys = new double[uv.length / 2];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = x(uv[2 * i]);
                ys[i] = y(uv[2 * i + 1]);
            }
            return new Shape.Polygon(xs, ys);
        }

        /** The slice of an ellipse between angles a0 and a1 (counter-clockwise, v up), closed by its chord. */
        Shape arc(double u, double v, double ru, double rv, double a0, double a1, int segments) {
            double[] uv = new double[2 * (segments + 1)];
            for (int i = 0; i <= segments; i++) {
                double a = a0 + (a1 - a0) * i / segments;
                uv[2 * i] = u + ru * StrictMath.cos(a);
                uv[2 * i + 1] = v + rv * StrictMath.sin(a);
            }
            return poly(uv);
        }

        /** A plain paint in a fixed colour for a part that does not take the object's colour (wheels, windows). */
        Paint fixed(Colour c) {
            return new Paint(c, c.jittered(rng, 10), Pattern.PLAIN, 0, 1, 0, main.shaded(), main.shadeTop(),
                    main.shadeBottom());
        }

        Colour pick(Colour... choices) {
            return choices[rng.nextInt(choices.length)];
        }

        void part(String name, Paint paint, Shape... shapes) {
            parts.add(new Part(name, List.of(shapes), paint));
        }
    }
}
