package osprey4j.core.kernels;

import java.util.Random;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * A rough timing of the kernels at ConvNeXt-L / LLaMA sizes, for a quick look while developing (not a test,
 * not a benchmark harness: `osprey bench` is the place for measured comparisons). Run after test-compile:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xbatch \
 *      -cp osprey-core/target/classes:osprey-core/target/test-classes osprey4j.core.kernels.KernelTimings
 * </pre>
 */
public final class KernelTimings {
    private KernelTimings() {
    }

    private interface Body {
        void run();
    }

    public static void main(String[] args) {
        Tensor img = random(3, 512, 512);
        Tensor stemW = random(192, 3, 4, 4);
        Tensor stemB = random(192);
        time("patchify stem 3x512x512 -> 128*128x192", 2.0 * 192 * 48 * 128 * 128,
                () -> Conv2d.patchify(img, stemW, stemB));
        int[][] depthwise = {{192, 128}, {384, 64}, {768, 32}, {1536, 16}};
        for (int[] d : depthwise) {
            Tensor x = random((long) d[1] * d[1], d[0]);
            Tensor out = Tensor.zeros(DType.F32, (long) d[1] * d[1], d[0]);
            Tensor w = random(d[0], 1, 7, 7);
            Tensor b = random(d[0]);
            time("depthwise 7x7 " + d[1] + "x" + d[1] + "x" + d[0], 2.0 * 49 * d[0] * d[1] * d[1],
                    () -> Conv2d.depthwiseChannelsLast(x, d[1], w, b, out));
        }
        Tensor g = random(192);
        Tensor be = random(192);
        Tensor rows = random(16384, 192);
        Tensor rowsOut = Tensor.zeros(DType.F32, 16384, 192);
        time("layerNorm 16384x192", 0, () -> Norms.layerNorm(rows, g, be, 1e-6f, rowsOut));
        Tensor act = random(4096, 3072);
        Tensor actOut = Tensor.zeros(DType.F32, 4096, 3072);
        time("gelu 4096x3072", 0, () -> Activations.gelu(act, actOut));
        time("silu 4096x3072", 0, () -> Activations.silu(act, actOut));
        Tensor scores = random(32, 512, 512);
        time("softmax 32x512x512", 0, () -> Softmax.softmax(scores));
        Tensor q = random(64, 4096);
        Tensor keys = random(1100, 4096);
        Tensor values = random(1100, 4096);
        Tensor att = Tensor.zeros(DType.F32, 64, 4096);
        Attention.Workspace ws = new Attention.Workspace(1100, 128);
        time("attention 64 queries x 1100 keys, 32 heads", 4.0 * 32 * 128 * 64 * 1068,
                () -> Attention.attend(q, keys, values, 32, 32, 1036, null, ws, att));
        byte[] photo = new byte[1024 * 683 * 3];
        new Random(2).nextBytes(photo);
        time("pillow bicubic 1024x683 -> 767x512", 0, () -> PillowResize.resize(photo, 1024, 683, 3, 767, 512));
        Tensor planes = random(3, 512, 767);
        time("bilinear 3x512x767 -> 3x512x512", 0, () -> BilinearResize.resize(planes, 512, 512));
    }

    private static void time(String name, double flops, Body body) {
        for (int i = 0; i < 3; i++) {
            body.run();
        }
        int reps = 5;
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            body.run();
        }
        double seconds = (System.nanoTime() - t0) / 1e9 / reps;
        System.out.printf("%-45s %9.2f ms%s%n", name, seconds * 1e3,
                flops > 0 ? String.format("  %6.1f GFLOP/s", flops / seconds / 1e9) : "");
    }

    private static Tensor random(long... shape) {
        Random r = new Random(1);
        float[] a = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextFloat() - 0.5f;
        }
        return Tensor.copyOf(a, shape);
    }
}
