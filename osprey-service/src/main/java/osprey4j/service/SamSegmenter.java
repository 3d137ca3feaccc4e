package osprey4j.service;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import osprey4j.core.mask.Mask;
import osprey4j.model.image.RgbImage;
import osprey4j.model.sam.AutomaticMaskGenerator;
import osprey4j.model.sam.Sam;
import osprey4j.model.sam.SamPrompt;

/**
 * SAM as the {@link Segmenter} the server takes: {@link #prepare} is one SAM encode of the image, kept with it;
 * {@link #segment} is SAM's single best mask for the prompt (as the reference demo asks SAM:
 * {@code multimask_output=False}); {@link #everything} is the automatic mask generator with the official defaults.
 */
public final class SamSegmenter implements Segmenter {
    private final SegmentService sam;
    private final String name;
    private final AutomaticMaskGenerator.Options everything;

    /** Uses {@code sam} (which the caller closes) under the given name, "everything" with the official defaults. */
    public SamSegmenter(SegmentService sam, String name) {
        this(sam, name, AutomaticMaskGenerator.Options.defaults());
    }

    public SamSegmenter(SegmentService sam, String name, AutomaticMaskGenerator.Options everything) {
        this.sam = Objects.requireNonNull(sam, "sam");
        this.name = Objects.requireNonNull(name, "name");
        this.everything = Objects.requireNonNull(everything, "everything");
    }

    @Override
    public String name() {
        return name;
    }

    /** The image and its SAM embedding ("everything" runs the generator, which encodes its own crops). */
    private record Encoded(RgbImage image, Sam.Embedding embedding) implements Prepared {
        @Override
        public long byteSize() {
            return embedding.byteSize() + 3L * image.width() * image.height();
        }
    }

    @Override
    public Prepared prepare(RgbImage image) {
        return new Encoded(image, sam.encode(image));
    }

    @Override
    public Mask segment(Prepared image, Prompt prompt) {
        Encoded e = (Encoded) image;
        List<SamPrompt.Point> points = new ArrayList<>();
        for (Point p : prompt.points()) {
            points.add(new SamPrompt.Point(p.x(), p.y(), p.positive() ? 1 : 0));
        }
        double[] b = prompt.box();
        SamPrompt.Box box = b == null ? null : new SamPrompt.Box(b[0], b[1], b[2], b[3]);
        return sam.segment(e.embedding(), new SegmentRequest(null, points, box, false)).bestMask().segmentation();
    }

    @Override
    public List<Mask> everything(Prepared image) {
        Encoded e = (Encoded) image;
        return sam.everything(e.image(), everything).stream()
                .sorted(Comparator.comparingLong(GeneratedMask::area).reversed())
                .map(GeneratedMask::segmentation).toList();
    }
}
