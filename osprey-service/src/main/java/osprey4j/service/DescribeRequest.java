package osprey4j.service;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;
import java.util.Objects;
import osprey4j.core.prompt.Preambles;
import osprey4j.core.mask.Mask;
import osprey4j.model.GenerationOptions;

/**
 * A description of every region of one image ({@code osprey describe}): the image is encoded once and each region
 * is asked the reference demo's question.
 *
 * @param image   the image file
 * @param regions the regions, each with an id that its description carries
 * @param detail  short (the default) or detailed descriptions
 * @param options how the answers are generated; null means {@link GenerationOptions#reference()}
 */
public record DescribeRequest(String image, List<Region> regions, Detail detail, GenerationOptions options) {
    /** The reference demo's short-description question. */
    public static final String SHORT_QUESTION = "Please give me a short description of <mask><pos>. Using a short phrase.";
    /** The reference demo's detailed-description question. */
    public static final String DETAILED_QUESTION = "Can you give me a detailed description of <mask><pos>?";

    public DescribeRequest {
        regions = List.copyOf(Objects.requireNonNull(regions, "regions"));
        detail = detail == null ? Detail.SHORT : detail;
        options = options == null ? GenerationOptions.reference() : options;
    }

    /**
     * One region: its id (an annotation's id, or its position) and its mask at the image's size, in JSON a COCO
     * RLE ({@link ServiceJson}).
     */
    public record Region(long id,
                         @JsonSerialize(using = ServiceJson.MaskSerializer.class)
                         @JsonDeserialize(using = ServiceJson.MaskDeserializer.class) Mask mask) {
        public Region {
            Objects.requireNonNull(mask, "mask");
        }
    }

    /** Which of the reference demo's questions each region is asked, after the demo's opening. */
    public enum Detail {
        SHORT(SHORT_QUESTION),
        DETAILED(DETAILED_QUESTION);

        private final String question;

        Detail(String question) {
            this.question = question;
        }

        /** The demo's question alone ({@code <mask><pos>} stands for the region). */
        public String question() {
            return question;
        }

        /** The whole user message the demo sends: its opening ({@link Preambles#DEMO}), then the question. */
        public String message() {
            return Preambles.DEMO + question;
        }
    }
}
