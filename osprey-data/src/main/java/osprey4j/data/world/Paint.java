package osprey4j.data.world;

/**
 * How one part is coloured: a named base colour, an optional pattern in an accent colour, and an optional
 * vertical shading gradient over the object's height (lit from above). Colour never affects masks.
 *
 * @param rgb        the base colour actually painted (the named colour, slightly jittered)
 * @param accentRgb  the colour of stripes or dots
 * @param period     stripe width / dot spacing in pixels
 * @param angle      stripe direction in radians
 * @param shadeTop   image row where the shading gradient starts (brightest)
 * @param shadeBottom image row where it ends (darkest)
 */
record Paint(Colour colour, int rgb, Pattern pattern, int accentRgb, double period, double angle, boolean shaded,
             double shadeTop, double shadeBottom) {

    static Paint plain(Colour colour, int rgb) {
        return new Paint(colour, rgb, Pattern.PLAIN, rgb, 1, 0, false, 0, 1);
    }

    int colourAt(int x, int y) {
        int c = rgb;
        switch (pattern) {
            case PLAIN -> { }
            case STRIPED -> {
                // StrictMath: Math.sin/cos may differ in the last bit between CPUs, and output must not.
                double t = (x * StrictMath.cos(angle) + y * StrictMath.sin(angle)) / period;
                if ((((long) Math.floor(t)) & 1) == 1) {
                    c = accentRgb;
                }
            }
            case DOTTED -> {
                double cell = period * 2;
                double dx = Math.floorMod(x, (int) cell) - cell / 2;
                double dy = Math.floorMod(y, (int) cell) - cell / 2;
                if (dx * dx + dy * dy <= period * period * 0.3) {
                    c = accentRgb;
                }
            }
        }
        if (!shaded) {
            return c;
        }
        double t = Math.clamp((y - shadeTop) / Math.max(1, shadeBottom - shadeTop), 0, 1);
        return scale(c, 1.18 - 0.5 * t);
    }

    static int scale(int rgb, double f) {
        int r = (int) Math.min(255, ((rgb >> 16) & 0xFF) * f);
        int g = (int) Math.min(255, ((rgb >> 8) & 0xFF) * f);
        int b = (int) Math.min(255, (rgb & 0xFF) * f);
        return r << 16 | g << 8 | b;
    }
}
