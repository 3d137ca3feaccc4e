package osprey4j.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.MaskPng;
import osprey4j.model.Osprey;
import osprey4j.model.image.RgbImage;
import osprey4j.service.SegmentRequest;
import osprey4j.service.SegmentService;
import picocli.CommandLine.Option;

/**
 * The regions of a question as given on the command line: {@code --mask PNG}, {@code --box x1,y1,x2,y2} or
 * {@code --point x,y}, in the order given ({@code <region1>} is the first).
 */
final class RegionInputs {
    private RegionInputs() {
    }

    /** One region option; picocli keeps a list of these in command-line order. */
    static final class Region {
        @Option(names = "--mask", paramLabel = "PNG", required = true,
                description = "A region as a mask image of the input image's size; any non-zero pixel is inside.")
        Path mask;

        @Option(names = "--box", paramLabel = "x1,y1,x2,y2", required = true,
                description = "A region as a box in pixels: with --sam, SAM's mask of the object in the box; without,"
                        + " the rectangle itself (x2, y2 exclusive).")
        String box;

        @Option(names = "--point", paramLabel = "x,y", required = true,
                description = "A region as a click on the object; SAM (--sam CKPT) turns it into a mask.")
        String point;

        /** How the region was given, for listings. */
        String source() {
            return mask != null ? "mask " + mask : box != null ? "box " + box : "point " + point;
        }
    }

    /**
     * The masks of {@code regions}, in order: PNGs as they are; with a SAM checkpoint, each click and each box
     * becomes SAM's single mask for it (as the reference demo asks SAM: one mask, {@code multimask_output=False}),
     * on one encode of the image; without one, a box is its rectangle and a click is refused. Every region is
     * checked before SAM loads.
     */
    static List<Mask> masks(List<Region> regions, Path imageFile, RgbImage image, Path sam) {
        List<SegmentRequest> prompts = new ArrayList<>();
        List<Mask> fixed = new ArrayList<>();
        for (int i = 0; i < regions.size(); i++) {
            Region r = regions.get(i);
            if (r.point != null && sam == null) {
                throw new UsageException("--point " + r.point + ": a click needs SAM to become a mask; add --sam CKPT"
                        + " (e.g. sam_vit_b_01ec64.pth)");
            }
            SegmentRequest prompt = null;
            if (r.point != null) {
                prompt = new SegmentRequest(imageFile.toString(), List.of(SamInputs.point(r.point)), null, false);
            } else if (r.box != null && sam != null) {
                prompt = new SegmentRequest(imageFile.toString(), List.of(), SamInputs.box(r.box), false);
            }
            if (prompt != null) {
                SegmentRequest p = prompt;
                String option = r.point != null ? "--point " + r.point : "--box " + r.box;
                try {
                    p.prompt().check(image.width(), image.height());
                } catch (IllegalArgumentException e) {
                    throw new UsageException(option + ": " + e.getMessage());
                }
                prompts.add(p);
                fixed.add(null);
            } else {
                fixed.add(r.mask != null ? readPng(r.mask, i + 1, image.width(), image.height())
                        : box(r.box, image.width(), image.height()));
            }
        }
        if (prompts.isEmpty()) {
            return fixed;
        }
        List<Mask> segmented;
        try (SegmentService service = SamInputs.load(sam)) {
            segmented = ModelSupport.serviceCall(() -> service.masks(image, prompts));
        }
        List<Mask> out = new ArrayList<>();
        int next = 0;
        for (Mask m : fixed) {
            out.add(m != null ? m : segmented.get(next++));
        }
        return out;
    }

    /** The masks of {@code regions} without SAM, each checked against the image size. */
    static List<Mask> masks(List<Region> regions, int imageWidth, int imageHeight) {
        List<Mask> out = new ArrayList<>();
        for (int i = 0; i < regions.size(); i++) {
            Region r = regions.get(i);
            if (r.mask != null) {
                out.add(readPng(r.mask, i + 1, imageWidth, imageHeight));
            } else if (r.box != null) {
                out.add(box(r.box, imageWidth, imageHeight));
            } else {
                throw new UsageException("--point " + r.point + ": a click needs SAM to become a mask; add --sam CKPT"
                        + " (e.g. sam_vit_b_01ec64.pth)");
            }
        }
        return out;
    }

    /**
     * A mask PNG, with an error naming the region when it is missing, unreadable or of another size (the model's
     * own size check, {@link Osprey#checkMask}, made here before the model is loaded).
     */
    static Mask readPng(Path file, int index, int imageWidth, int imageHeight) {
        if (!Files.isRegularFile(file)) {
            throw new UsageException("mask file not found: " + file);
        }
        Mask m;
        try {
            m = MaskPng.read(file);
        } catch (IOException | RuntimeException e) {
            throw new UsageException("cannot read mask " + file + ": " + OneLineErrors.message(e));
        }
        try {
            Osprey.checkMask(index, m, imageWidth, imageHeight);
        } catch (IllegalArgumentException e) {
            throw new UsageException(file + ": " + e.getMessage());
        }
        return m;
    }

    /**
     * A box as a rectangular mask: pixels (x, y) with x1 <= x < x2 and y1 <= y < y2, coordinates rounded to
     * whole pixels and clipped to the image. (SAM would turn a box into an object's shape; without it the box
     * itself is the region.)
     */
    static Mask box(String spec, int imageWidth, int imageHeight) {
        double[] v = numbers(spec, 4, "--box", "x1,y1,x2,y2");
        int x1 = clamp(Math.round(v[0]), imageWidth), y1 = clamp(Math.round(v[1]), imageHeight);
        int x2 = clamp(Math.round(v[2]), imageWidth), y2 = clamp(Math.round(v[3]), imageHeight);
        if (x2 <= x1 || y2 <= y1) {
            throw new UsageException("--box " + spec + " covers no pixel of the " + imageWidth + "x" + imageHeight
                    + " image (needs x1 < x2 and y1 < y2 inside it)");
        }
        Mask.Builder b = Mask.builder(imageWidth, imageHeight);
        for (int y = y1; y < y2; y++) {
            for (int x = x1; x < x2; x++) {
                b.set(x, y);
            }
        }
        return b.build();
    }

    private static int clamp(long v, int max) {
        return (int) Math.max(0, Math.min(max, v));
    }

    static double[] numbers(String spec, int count, String option, String form) {
        String[] parts = spec.split(",", -1);
        if (parts.length != count) {
            throw new UsageException(option + " " + spec + ": expected " + form);
        }
        double[] out = new double[count];
        for (int i = 0; i < count; i++) {
            try {
                out[i] = Double.parseDouble(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new UsageException(option + " " + spec + ": '" + parts[i] + "' is not a number (expected "
                        + form + ")");
            }
            if (!Double.isFinite(out[i])) {
                throw new UsageException(option + " " + spec + ": '" + parts[i] + "' is not a finite number");
            }
        }
        return out;
    }
}
