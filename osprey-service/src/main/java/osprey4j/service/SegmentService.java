package osprey4j.service;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import osprey4j.core.mask.Mask;
import osprey4j.model.image.RgbImage;
import osprey4j.model.sam.AutomaticMaskGenerator;
import osprey4j.model.sam.Sam;

/**
 * The segmentation use case: SAM turns clicks and boxes into masks for the other use cases (ask, describe, chat
 * take masks). An image is encoded once ({@link #encode}, about a second or more for ViT-B) and the embedding serves
 * any number of prompts ({@link #segment(Sam.Embedding, SegmentRequest)}, milliseconds). Safe to call from many
 * threads: the weights are only read, each call has its own scratch.
 */
public final class SegmentService implements AutoCloseable {
    private final Sam sam;

    private SegmentService(Sam sam) {
        this.sam = sam;
    }

    /**
     * Loads a SAM checkpoint: an official {@code sam_vit_*.pth} (torch zip) or a safetensors copy.
     *
     * @throws InvalidRequestException when the file does not exist
     */
    public static SegmentService load(Path checkpoint) {
        Objects.requireNonNull(checkpoint, "checkpoint");
        if (!Files.isRegularFile(checkpoint)) {
            throw new InvalidRequestException("SAM checkpoint not found: " + checkpoint);
        }
        return new SegmentService(Sam.load(checkpoint));
    }

    /** A service over an already loaded model. */
    public static SegmentService of(Sam sam) {
        return new SegmentService(Objects.requireNonNull(sam, "sam"));
    }

    public Sam sam() {
        return sam;
    }

    /** Runs the image encoder once; the embedding serves any number of prompts on this image. */
    public Sam.Embedding encode(RgbImage image) {
        return sam.encode(image);
    }

    /** Encodes the image and answers one prompt. */
    public SegmentResult segment(RgbImage image, SegmentRequest request) {
        check(request, image.width(), image.height());
        long t0 = System.nanoTime();
        Sam.Embedding embedding = sam.encode(image);
        double encodeMs = (System.nanoTime() - t0) / 1e6;
        SegmentResult r = segment(embedding, request);
        return new SegmentResult(r.masks(), r.best(), encodeMs, r.decodeMs());
    }

    /** One prompt on an encoded image. */
    public SegmentResult segment(Sam.Embedding embedding, SegmentRequest request) {
        check(request, embedding.originalWidth(), embedding.originalHeight());
        long t0 = System.nanoTime();
        Sam.Prediction p = sam.predict(embedding, request.prompt(), request.multimask());
        List<SegmentedMask> masks = new ArrayList<>();
        for (int i = 0; i < p.count(); i++) {
            masks.add(SegmentedMask.of(p.mask(i), p.iou()[i]));
        }
        return new SegmentResult(masks, p.best(), 0, (System.nanoTime() - t0) / 1e6);
    }

    /** The best mask for each prompt, on one encode of the image (the masks the other use cases take). */
    public List<Mask> masks(RgbImage image, List<SegmentRequest> requests) {
        for (SegmentRequest r : requests) {
            check(r, image.width(), image.height());
        }
        if (requests.isEmpty()) {
            return List.of();
        }
        Sam.Embedding embedding = sam.encode(image);
        List<Mask> out = new ArrayList<>();
        for (SegmentRequest r : requests) {
            out.add(segment(embedding, r).bestMask().segmentation());
        }
        return out;
    }

    /**
     * "Segment everything": the automatic mask generator's records for the image, in the official order (the
     * image is encoded once per crop: once without crop layers).
     */
    public List<GeneratedMask> everything(RgbImage image, AutomaticMaskGenerator.Options options) {
        Objects.requireNonNull(image, "image");
        List<GeneratedMask> out = new ArrayList<>();
        for (AutomaticMaskGenerator.MaskRecord r : new AutomaticMaskGenerator(sam, options).generate(image)) {
            out.add(GeneratedMask.of(r));
        }
        return out;
    }

    private static void check(SegmentRequest request, int width, int height) {
        try {
            request.prompt().check(width, height);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        sam.close();
    }
}
