package osprey4j.model.sam;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.kernels.BilinearResize;
import osprey4j.core.kernels.ChannelLayout;
import osprey4j.core.kernels.PillowResize;
import osprey4j.core.mask.Mask;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.image.RgbImage;

/**
 * The Segment Anything Model (facebookresearch/segment-anything) as its {@code SamPredictor} runs it: an image is
 * encoded once ({@link #encode}, the expensive part), then any number of prompts (clicks, a box, a previous
 * low-resolution mask) are decoded against that embedding ({@link #predict}, cheap).
 *
 * <pre>
 * image ──ResizeLongestSide(S) (Pillow bilinear)── normalise (ImageNet mean/std, 0..255) ── pad to S x S
 *       ──{@link SamImageEncoder}──> embedding [256, 64, 64]                              = {@link Embedding}
 * prompt (original pixel coordinates) ──scaled to the resized frame──{@link SamPromptEncoder}──> sparse, dense
 * {@link SamMaskDecoder}(embedding, dense PE, sparse, dense) ──> low-res logits [4, 256, 256], IoU [4]
 *       multimask: masks 1..3, else mask 0
 * postprocess: bilinear to S x S, crop the padding, bilinear to the original size, logits > 0 = the mask
 * </pre>
 * Loads the official checkpoints ({@code sam_vit_b_01ec64.pth}, {@code sam_vit_l_0b3195.pth},
 * {@code sam_vit_h_4b8939.pth}: {@code torch.save} zip files, read by osprey-core's allow-listed unpickler) and
 * safetensors copies of them; every dimension comes from the weights. Thread-safe: weights are only read.
 */
public final class Sam implements AutoCloseable {
    /** The official normalisation, on 0..255 pixel values. */
    static final float[] PIXEL_MEAN = {123.675f, 116.28f, 103.53f};
    static final float[] PIXEL_STD = {58.395f, 57.12f, 57.375f};
    /** The official mask threshold on logits. */
    public static final float MASK_THRESHOLD = 0f;

    private final SamImageEncoder imageEncoder;
    private final SamPromptEncoder promptEncoder;
    private final SamMaskDecoder maskDecoder;
    private final Tensor densePe;
    /** The dense prompt embedding without a mask input ({@code no_mask_embed} everywhere). */
    private final Tensor noMaskDense;
    private Checkpoint owned;

    private Sam(SamImageEncoder imageEncoder, SamPromptEncoder promptEncoder, SamMaskDecoder maskDecoder) {
        this.imageEncoder = imageEncoder;
        this.promptEncoder = promptEncoder;
        this.maskDecoder = maskDecoder;
        this.densePe = promptEncoder.densePositionalEncoding();
        this.noMaskDense = promptEncoder.dense(null);
    }

    /** Opens a SAM checkpoint file (torch zip or safetensors) and reads the model; the file stays mapped until {@link #close}. */
    public static Sam load(Path file) {
        Checkpoint ckpt = Checkpoints.open(file);
        try {
            Sam sam = load(ckpt, SamMaskDecoder.DEFAULT_HEADS);
            sam.owned = ckpt;
            return sam;
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    /**
     * Reads SAM from an opened state dict (keys {@code image_encoder.*}, {@code prompt_encoder.*},
     * {@code mask_decoder.*}). The weights stay views of the checkpoint, which must stay open.
     *
     * @param decoderHeads the two-way transformer's heads (SAM: {@link SamMaskDecoder#DEFAULT_HEADS})
     */
    public static Sam load(Checkpoint ckpt, int decoderHeads) {
        Objects.requireNonNull(ckpt, "ckpt");
        if (!ckpt.contains("image_encoder.patch_embed.proj.weight") || !ckpt.contains("mask_decoder.iou_token.weight")) {
            String first = ckpt.tensors().isEmpty() ? "no tensors" : "first key '" + ckpt.tensors().getFirst().name() + "'";
            throw new CheckpointException("not a Segment Anything checkpoint: no 'image_encoder.patch_embed.proj.weight'"
                    + " and 'mask_decoder.iou_token.weight' (" + first
                    + (ckpt.tensors().isEmpty() ? "" : " in " + ckpt.tensors().getFirst().file()) + ")");
        }
        SamImageEncoder enc = SamImageEncoder.load(ckpt);
        SamPromptEncoder prompt = SamPromptEncoder.load(ckpt, enc.grid(), enc.imageSize());
        SamMaskDecoder dec = SamMaskDecoder.load(ckpt, decoderHeads);
        if (prompt.embedDim() != enc.outChannels()) {
            throw new CheckpointException("the prompt encoder is " + prompt.embedDim() + " wide, the image encoder's neck "
                    + enc.outChannels());
        }
        return new Sam(enc, prompt, dec);
    }

    /** Releases the checkpoint file this model was loaded from by {@link #load(Path)}; the model is unusable after. */
    @Override
    public void close() {
        if (owned != null) {
            owned.close();
            owned = null;
        }
    }

    public SamImageEncoder imageEncoder() {
        return imageEncoder;
    }

    public SamPromptEncoder promptEncoder() {
        return promptEncoder;
    }

    public SamMaskDecoder maskDecoder() {
        return maskDecoder;
    }

    /** The encoder's square input side (1024). */
    public int imageSize() {
        return imageEncoder.imageSize();
    }

    /** {@code ResizeLongestSide.get_preprocess_shape}: {height, width} with the long side {@code target}. */
    public static int[] preprocessShape(int height, int width, int target) {
        double scale = target * 1.0 / Math.max(height, width);
        return new int[] {(int) (height * scale + 0.5), (int) (width * scale + 0.5)};
    }

    /** The image resized as {@code ResizeLongestSide.apply_image} does (Pillow bilinear), RGB bytes. */
    public RgbImage resize(RgbImage image) {
        int[] hw = preprocessShape(image.height(), image.width(), imageSize());
        if (hw[0] == image.height() && hw[1] == image.width()) {
            return image;
        }
        byte[] out = PillowResize.resize(image.rgb(), image.width(), image.height(), 3, hw[1], hw[0],
                PillowResize.Filter.BILINEAR);
        return new RgbImage(hw[1], hw[0], out);
    }

    /** {@code Sam.preprocess} of a resized image: normalise, then pad with zeros to S x S. F32 [3, S, S]. */
    public Tensor pixels(RgbImage resized) {
        int s = imageSize();
        if (resized.width() > s || resized.height() > s) {
            throw new IllegalArgumentException("image " + resized.width() + "x" + resized.height() + " is larger than "
                    + s + "x" + s + "; resize it first");
        }
        float[] px = new float[3 * s * s];
        byte[] rgb = resized.rgb();
        int w = resized.width();
        for (int y = 0; y < resized.height(); y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    px[(c * s + y) * s + x] = ((rgb[(y * w + x) * 3 + c] & 0xFF) - PIXEL_MEAN[c]) / PIXEL_STD[c];
                }
            }
        }
        return Tensor.wrap(px, 3, s, s);
    }

    /**
     * An encoded image: the embedding (channels-last [g*g, D]) and the sizes the prompts and masks need. It also
     * keeps, once computed, the mask decoder's work that depends on the image alone (see
     * {@link SamMaskDecoder#prepare}), so that every click on it starts from there; {@link #encode} computes it with
     * the embedding. Thread-safe.
     */
    public static final class Embedding {
        private final Tensor embedding;
        private final int originalWidth;
        private final int originalHeight;
        private final int inputWidth;
        private final int inputHeight;
        private volatile SamMaskDecoder.PreparedImage prepared;

        public Embedding(Tensor embedding, int originalWidth, int originalHeight, int inputWidth, int inputHeight) {
            this.embedding = Objects.requireNonNull(embedding, "embedding");
            this.originalWidth = originalWidth;
            this.originalHeight = originalHeight;
            this.inputWidth = inputWidth;
            this.inputHeight = inputHeight;
        }

        public Tensor embedding() {
            return embedding;
        }

        public int originalWidth() {
            return originalWidth;
        }

        public int originalHeight() {
            return originalHeight;
        }

        public int inputWidth() {
            return inputWidth;
        }

        public int inputHeight() {
            return inputHeight;
        }

        /** The embedding as the reference returns it, [D, g, g]. */
        public Tensor channelsFirst() {
            int g = (int) Math.round(Math.sqrt(embedding.dim(0)));
            return ChannelLayout.toChannelsFirst(embedding, g, g);
        }

        /** Bytes held: the embedding and, once computed, the decoder's prepared image side (about 2.5x as much). */
        public long byteSize() {
            SamMaskDecoder.PreparedImage p = prepared;
            return embedding.byteSize() + (p == null ? 0 : p.byteSize());
        }

        /** The prepared image side without a mask input, computed by {@code sam} on first use. */
        SamMaskDecoder.PreparedImage prepared(Sam sam) {
            SamMaskDecoder.PreparedImage p = prepared;
            if (p == null || !p.preparedBy(sam.maskDecoder)) {
                synchronized (this) {
                    p = prepared;
                    if (p == null || !p.preparedBy(sam.maskDecoder)) {
                        p = sam.maskDecoder.prepare(embedding, sam.densePe, sam.noMaskDense, sam.imageEncoder.grid());
                        prepared = p;
                    }
                }
            }
            return p;
        }

        @Override
        public String toString() {
            return "Embedding[" + embedding + ", original " + originalWidth + "x" + originalHeight + ", input "
                    + inputWidth + "x" + inputHeight + "]";
        }
    }

    /**
     * {@code SamPredictor.set_image}: resize, normalise, pad and run the image encoder; then the mask decoder's
     * image-only work, which every prompt shares.
     */
    public Embedding encode(RgbImage image) {
        Objects.requireNonNull(image, "image");
        RgbImage resized = resize(image);
        Tensor features = imageEncoder.forward(pixels(resized));
        Embedding e = new Embedding(ChannelLayout.toChannelsLast(features), image.width(), image.height(),
                resized.width(), resized.height());
        e.prepared(this);
        return e;
    }

    /**
     * The result of one prompt: low-resolution logits, predicted IoUs, and the logits at the original size (null
     * from {@link #decodeClicks}).
     */
    public record Prediction(Tensor lowResLogits, float[] iou, Tensor logits) {
        /** How many masks (1, or 3 with multimask output). */
        public int count() {
            return iou.length;
        }

        /** Mask i: logits above {@link #MASK_THRESHOLD}. */
        public Mask mask(int i) {
            if (logits == null) {
                throw new IllegalStateException("this prediction has only low-resolution logits (postprocess them)");
            }
            int h = logits.size(1), w = logits.size(2);
            return threshold(logits.segment(), (long) i * h * w, w, h);
        }

        /** Every mask, in order. */
        public List<Mask> masks() {
            List<Mask> out = new ArrayList<>();
            for (int i = 0; i < count(); i++) {
                out.add(mask(i));
            }
            return out;
        }

        /** The index of the mask with the highest predicted IoU (the first of equals). */
        public int best() {
            int b = 0;
            for (int i = 1; i < iou.length; i++) {
                if (iou[i] > iou[b]) {
                    b = i;
                }
            }
            return b;
        }
    }

    /**
     * {@code SamPredictor.predict}: decodes a prompt given in the original image's pixel coordinates.
     *
     * @param image     an {@link #encode}d image
     * @param prompt    points, box, mask input
     * @param multimask three masks (the official default for a single click) or one
     */
    public Prediction predict(Embedding image, SamPrompt prompt, boolean multimask) {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(prompt, "prompt");
        prompt.check(image.originalWidth(), image.originalHeight());
        double sx = (double) image.inputWidth() / image.originalWidth();
        double sy = (double) image.inputHeight() / image.originalHeight();
        List<SamPromptEncoder.Point> points = new ArrayList<>();
        for (SamPrompt.Point p : prompt.points()) {
            points.add(new SamPromptEncoder.Point((float) (p.x() * sx), (float) (p.y() * sy), p.label()));
        }
        float[] box = null;
        if (prompt.box() != null) {
            SamPrompt.Box b = prompt.box();
            box = new float[] {(float) (b.x1() * sx), (float) (b.y1() * sy), (float) (b.x2() * sx), (float) (b.y2() * sy)};
        }
        return decode(image, points, box, prompt.maskInput(), multimask);
    }

    /**
     * {@code SamPredictor.predict_torch}: decodes a prompt already in the resized input frame.
     */
    public Prediction decode(Embedding image, List<SamPromptEncoder.Point> points, float[] box, Tensor maskInput,
                             boolean multimask) {
        return decode(image, points, box, maskInput, multimask, SamPromptEncoder.Coordinates.FLOAT32);
    }

    /** {@link #decode(Embedding, List, float[], Tensor, boolean)} with the points' arithmetic precision. */
    public Prediction decode(Embedding image, List<SamPromptEncoder.Point> points, float[] box, Tensor maskInput,
                             boolean multimask, SamPromptEncoder.Coordinates precision) {
        Tensor sparse = promptEncoder.sparse(points, box, precision);
        // kept with the image for every prompt, so made outside the click's scratch arena
        SamMaskDecoder.PreparedImage shared = maskInput == null ? image.prepared(this) : null;
        int from = multimask ? 1 : 0, to = multimask ? maskDecoder.maskTokens() : 1;
        try (Arena scratch = Arena.ofShared()) {
            SamMaskDecoder.Output out = Tensor.allocatingIn(scratch, () -> maskDecoder.predict(shared != null ? shared
                    : maskDecoder.prepare(image.embedding(), densePe, promptEncoder.dense(maskInput),
                            imageEncoder.grid()), sparse, from, to));
            Tensor lowRes = out.masks().copy();
            return new Prediction(lowRes, out.iou(), postprocess(lowRes, image));
        }
    }

    /**
     * Single foreground clicks in the input frame, decoded side by side (the generator's batch of points): each
     * prediction is bitwise the one {@link #decode} gives for that click alone, with float64 coordinate arithmetic
     * and multimask output. The logits at the original size are not computed ({@link Prediction#logits} is null):
     * the generator upsamples only the masks it keeps ({@link #postprocess}).
     */
    public List<Prediction> decodeClicks(Embedding image, List<SamPromptEncoder.Point> clicks) {
        List<Tensor> sparse = new ArrayList<>(clicks.size());
        for (SamPromptEncoder.Point p : clicks) {
            sparse.add(promptEncoder.sparse(List.of(p), null, SamPromptEncoder.Coordinates.FLOAT64));
        }
        SamMaskDecoder.PreparedImage prepared = image.prepared(this);
        try (Arena scratch = Arena.ofShared()) {
            List<SamMaskDecoder.Output> outs = Tensor.allocatingIn(scratch, () -> maskDecoder.predict(prepared, sparse,
                    1, maskDecoder.maskTokens()));
            List<Prediction> predictions = new ArrayList<>(outs.size());
            for (SamMaskDecoder.Output out : outs) {
                predictions.add(new Prediction(out.masks().copy(), out.iou(), null));
            }
            return predictions;
        }
    }

    /**
     * {@code Sam.postprocess_masks}: bilinear to S x S, crop to the resized image, bilinear to the original size
     * (computed in one pass, only where the output reads; the same values as the three steps).
     */
    public Tensor postprocess(Tensor lowRes, Embedding image) {
        int s = imageSize();
        return BilinearResize.resizeCropResize(lowRes, s, s, image.inputHeight(), image.inputWidth(),
                image.originalHeight(), image.originalWidth());
    }

    /** The mask of logits above {@link #MASK_THRESHOLD} in a row-major w x h plane starting at float {@code base}. */
    static Mask threshold(MemorySegment logits, long base, int w, int h) {
        float[] plane = new float[Math.toIntExact((long) w * h)];
        MemorySegment.copy(logits, ValueLayout.JAVA_FLOAT_UNALIGNED, base * Float.BYTES, plane, 0, plane.length);
        return Mask.fromPredicate(w, h, (x, y) -> plane[y * w + x] > MASK_THRESHOLD);
    }
}
