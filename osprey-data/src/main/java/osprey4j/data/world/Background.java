package osprey4j.data.world;

/**
 * What lies behind the objects: sky over ground, a wall over a floor, a two-colour gradient or a noise texture.
 * Pixels are a pure function of (x, y) and the fields, so rendering is deterministic.
 *
 * @param horizon   image row where ground (or floor) starts; unused by gradient and texture
 * @param phrase    how captions describe it ("under a blue sky on green grass")
 */
record Background(Kind kind, int upperRgb, int lowerRgb, double horizon, long noiseSeed, boolean tiled,
                  String phrase) {

    enum Kind {
        OUTDOOR, INDOOR, GRADIENT, TEXTURE
    }

    /** Whether objects stand on a ground plane (and so shrink with distance). */
    boolean hasGround() {
        return kind == Kind.OUTDOOR || kind == Kind.INDOOR;
    }

    /** Paints one row of background into {@code rgb} (a row of {@code width} pixels starting at {@code offset}). */
    void paintRow(int[] rgb, int offset, int width, int y, int height) {
        switch (kind) {
            case OUTDOOR, INDOOR -> {
                boolean lower = y >= horizon;
                int base = lower ? lowerRgb : upperRgb;
                // The sky and the wall brighten towards the horizon; the ground darkens towards the viewer.
                double t = lower ? (y - horizon) / Math.max(1, height - horizon) : y / Math.max(1, horizon);
                double f = lower ? 1.05 - 0.25 * t : 0.85 + 0.2 * t;
                for (int x = 0; x < width; x++) {
                    int c = Paint.scale(base, f + (lower ? grain(x, y, 0.08) : 0));
                    if (lower && tiled && (((x / 32) + (int) ((y - horizon) / 16)) & 1) == 1) {
                        c = Paint.scale(c, 0.85);
                    }
                    rgb[offset + x] = c;
                }
            }
            case GRADIENT -> {
                double t = y / (double) Math.max(1, height - 1);
                int c = mix(upperRgb, lowerRgb, t);
                for (int x = 0; x < width; x++) {
                    rgb[offset + x] = c;
                }
            }
            case TEXTURE -> {
                for (int x = 0; x < width; x++) {
                    rgb[offset + x] = Paint.scale(upperRgb, 0.8 + 0.35 * smoothNoise(x / 24.0, y / 24.0)
                            + grain(x, y, 0.1));
                }
            }
        }
    }

    static int mix(int a, int b, double t) {
        int r = (int) Math.round(((a >> 16) & 0xFF) * (1 - t) + ((b >> 16) & 0xFF) * t);
        int g = (int) Math.round(((a >> 8) & 0xFF) * (1 - t) + ((b >> 8) & 0xFF) * t);
        int bl = (int) Math.round((a & 0xFF) * (1 - t) + (b & 0xFF) * t);
        return r << 16 | g << 8 | bl;
    }

    /** Per-pixel hash noise in [-amount/2, amount/2]: film grain. */
    private double grain(int x, int y, double amount) {
        return (hash(x, y) - 0.5) * amount;
    }

    /** Value noise: hashed lattice values, smoothly interpolated, in [0, 1]. */
    private double smoothNoise(double x, double y) {
        int x0 = (int) Math.floor(x);
        int y0 = (int) Math.floor(y);
        double fx = x - x0;
        double fy = y - y0;
        fx = fx * fx * (3 - 2 * fx);
        fy = fy * fy * (3 - 2 * fy);
        double top = hash(x0, y0) * (1 - fx) + hash(x0 + 1, y0) * fx;
        double bottom = hash(x0, y0 + 1) * (1 - fx) + hash(x0 + 1, y0 + 1) * fx;
        return top * (1 - fy) + bottom * fy;
    }

    /** A hash of (x, y, seed) in [0, 1). */
    private double hash(int x, int y) {
        long z = noiseSeed ^ (x * 0x9E3779B97F4A7C15L) ^ (y * 0xC2B2AE3D27D4EB4FL);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        z ^= z >>> 31;
        return (z >>> 11) * 0x1.0p-53;
    }
}
