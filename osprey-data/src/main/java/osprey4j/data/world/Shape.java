package osprey4j.data.world;

/**
 * A filled region of the image plane in pixel coordinates (x to the right, y down). A pixel (x, y) is inside
 * when its centre (x + 0.5, y + 0.5) is, so rasterisation is a pure function of the shape: no anti-aliasing,
 * which keeps every mask pixel-exact.
 */
sealed interface Shape {
    boolean contains(double x, double y);

    /** A box (x0, y0, x1, y1) holding every point of the shape; may reach past the image. */
    double[] bounds();

    /** An axis-aligned ellipse. */
    record Ellipse(double cx, double cy, double rx, double ry) implements Shape {
        @Override
        public boolean contains(double x, double y) {
            double dx = (x - cx) / rx;
            double dy = (y - cy) / ry;
            return dx * dx + dy * dy <= 1;
        }

        @Override
        public double[] bounds() {
            return new double[] {cx - rx, cy - ry, cx + rx, cy + ry};
        }
    }

    /** An axis-aligned rectangle [x0, x1) x [y0, y1) with corners rounded by radius r (0 for sharp corners). */
    record RoundedRect(double x0, double y0, double x1, double y1, double r) implements Shape {
        @Override
        public boolean contains(double x, double y) {
            if (x < x0 || x >= x1 || y < y0 || y >= y1) {
                return false;
            }
            if (r <= 0) {
                return true;
            }
            // Inside the rectangle; only the four corner squares need the distance test.
            double cx = Math.clamp(x, x0 + r, x1 - r);
            double cy = Math.clamp(y, y0 + r, y1 - r);
            double dx = x - cx;
            double dy = y - cy;
            return dx * dx + dy * dy <= r * r;
        }

        @Override
        public double[] bounds() {
            return new double[] {x0, y0, x1, y1};
        }
    }

    /** A simple polygon, even-odd rule. */
    record Polygon(double[] xs, double[] ys) implements Shape {
        @Override
        public boolean contains(double x, double y) {
            boolean inside = false;
            int n = xs.length;
            for (int i = 0, j = n - 1; i < n; j = i++) {
                if ((ys[i] > y) != (ys[j] > y)
                        && x < (xs[j] - xs[i]) * (y - ys[i]) / (ys[j] - ys[i]) + xs[i]) {
                    inside = !inside;
                }
            }
            return inside;
        }

        @Override
        public double[] bounds() {
            double[] b = {Double.MAX_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, -Double.MAX_VALUE};
            for (int i = 0; i < xs.length; i++) {
                b[0] = Math.min(b[0], xs[i]);
                b[1] = Math.min(b[1], ys[i]);
                b[2] = Math.max(b[2], xs[i]);
                b[3] = Math.max(b[3], ys[i]);
            }
            return b;
        }
    }

    /** The points of {@code outer} not in {@code hole}: rings (a mug's handle) and hooks. */
    record Difference(Shape outer, Shape hole) implements Shape {
        @Override
        public boolean contains(double x, double y) {
            return outer.contains(x, y) && !hole.contains(x, y);
        }

        @Override
        public double[] bounds() {
            return outer.bounds();
        }
    }

    /** The points in both shapes: a band across a ball, half a ring. */
    record Intersection(Shape a, Shape b) implements Shape {
        @Override
        public boolean contains(double x, double y) {
            return a.contains(x, y) && b.contains(x, y);
        }

        @Override
        public double[] bounds() {
            double[] p = a.bounds();
            double[] q = b.bounds();
            return new double[] {Math.max(p[0], q[0]), Math.max(p[1], q[1]), Math.min(p[2], q[2]),
                    Math.min(p[3], q[3])};
        }
    }
}
