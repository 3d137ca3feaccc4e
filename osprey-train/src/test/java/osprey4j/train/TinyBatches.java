package osprey4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;

/** Small random models and batches whose sizes are not multiples of any vector width. */
final class TinyBatches {
    static final int VOCAB = 23;
    static final int MASK = VOCAB;
    static final int POS = VOCAB + 1;

    private TinyBatches() {
    }

    static OspreyDims dims(boolean tied) {
        return new OspreyDims(20, 13, 2, 5, 1, VOCAB, 1e-5f, 500.0, tied, 6, 2, new int[] {3, 5, 6, 9}, 11,
                new int[] {7, 9}, 6);
    }

    static List<TrainSample> batch(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int img = OspreyTokens.IMAGE_TOKEN_ID;
        int[] idsA = {1, 5, img, 7, MASK, POS, 9, 3, MASK, POS, 4, 11, 12, 2};
        int[] labA = {-100, -100, -100, -100, -100, -100, -100, -100, -100, -100, 4, 11, 12, 2};
        int[] idsB = {1, img, 8, MASK, POS, 6, 13, 22, 0, 2};
        int[] labB = {-100, -100, -100, -100, -100, 6, 13, 22, 0, 2};
        List<TrainSample> out = new ArrayList<>();
        out.add(new TrainSample(idsA, labA, levels(rnd), masks(rnd, 2)));
        out.add(new TrainSample(idsB, labB, levels(rnd), masks(rnd, 1)));
        return out;
    }

    static List<Tensor> levels(SplittableRandom rnd) {
        int[][] shapes = {{3, 8, 10}, {5, 4, 5}, {6, 2, 3}, {9, 1, 2}};
        List<Tensor> out = new ArrayList<>();
        for (int[] s : shapes) {
            float[] v = new float[s[0] * s[1] * s[2]];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (rnd.nextDouble() * 2 - 1);
            }
            out.add(Tensor.wrap(v, s[0], s[1], s[2]));
        }
        return out;
    }

    /** Rectangles covering about a third of an h x w image each (large enough for every level). */
    static List<Tensor> masksOfSize(SplittableRandom rnd, int n, int h, int w) {
        List<Tensor> out = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            float[] m = new float[h * w];
            int y0 = rnd.nextInt(0, h / 3), x0 = rnd.nextInt(0, w / 3);
            for (int y = y0; y < y0 + h / 2; y++) {
                for (int x = x0; x < x0 + w / 2; x++) {
                    m[y * w + x] = 1f;
                }
            }
            out.add(Tensor.wrap(m, h, w));
        }
        return out;
    }

    /** Rectangles large enough to survive every level's bilinear shrink. */
    static List<Tensor> masks(SplittableRandom rnd, int n) {
        int h = 12, w = 15;
        List<Tensor> out = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            float[] m = new float[h * w];
            int y0 = rnd.nextInt(0, 5), x0 = rnd.nextInt(0, 6);
            int y1 = y0 + 5 + rnd.nextInt(0, 3), x1 = x0 + 6 + rnd.nextInt(0, 3);
            for (int y = y0; y < Math.min(h, y1); y++) {
                for (int x = x0; x < Math.min(w, x1); x++) {
                    m[y * w + x] = 1f;
                }
            }
            out.add(Tensor.wrap(m, h, w));
        }
        return out;
    }
}
