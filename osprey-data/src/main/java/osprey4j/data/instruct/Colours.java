package osprey4j.data.instruct;

import osprey4j.core.mask.Mask;

import java.awt.image.BufferedImage;

/** Names a region's colour from its pixels: the mean RGB inside the mask, matched to a small palette. */
final class Colours {
    private Colours() {
    }

    private record Named(String name, int r, int g, int b) {
    }

    // A coarse palette: names people use for objects, with typical (not pure) values so that dull photographs land
    // on the expected name.
    private static final Named[] PALETTE = {
            new Named("black", 20, 20, 20), new Named("white", 240, 240, 240), new Named("grey", 128, 128, 128),
            new Named("red", 200, 30, 30), new Named("orange", 240, 140, 30), new Named("yellow", 235, 215, 40),
            new Named("green", 50, 160, 60), new Named("blue", 40, 80, 200), new Named("purple", 130, 50, 160),
            new Named("pink", 240, 150, 190), new Named("brown", 130, 80, 40),
    };

    /** Mean {r, g, b} of the image's pixels under the mask (image and mask of the same size). */
    static double[] meanInside(BufferedImage image, Mask mask) {
        Mask.Box b = mask.bbox();
        double r = 0, g = 0, bl = 0;
        long n = 0;
        int w = Math.min(image.getWidth(), mask.width());
        int h = Math.min(image.getHeight(), mask.height());
        for (int y = b.y(); y < Math.min(h, b.y() + b.height()); y++) {
            for (int x = b.x(); x < Math.min(w, b.x() + b.width()); x++) {
                if (mask.get(x, y)) {
                    int rgb = image.getRGB(x, y);
                    r += (rgb >> 16) & 0xff;
                    g += (rgb >> 8) & 0xff;
                    bl += rgb & 0xff;
                    n++;
                }
            }
        }
        return n == 0 ? null : new double[]{r / n, g / n, bl / n};
    }

    /** The palette name nearest to an RGB triple (Euclidean in RGB), or {@code null} for {@code null}. */
    static String nearestName(double[] rgb) {
        if (rgb == null) {
            return null;
        }
        Named best = null;
        double bestD = Double.MAX_VALUE;
        for (Named c : PALETTE) {
            double d = sq(rgb[0] - c.r) + sq(rgb[1] - c.g) + sq(rgb[2] - c.b);
            if (d < bestD) {
                bestD = d;
                best = c;
            }
        }
        return best.name;
    }

    private static double sq(double v) {
        return v * v;
    }
}
