package osprey4j.app;

import java.nio.file.Files;
import java.nio.file.Path;
import osprey4j.model.sam.SamPrompt;
import osprey4j.service.SegmentService;

/** SAM prompts and the SAM checkpoint as the command line gives them. */
final class SamInputs {
    private SamInputs() {
    }

    /** {@code x,y} or {@code x,y,label} (label 1 = on the object, the default; 0 = not on it). */
    static SamPrompt.Point point(String spec) {
        String[] parts = spec.split(",", -1);
        if (parts.length != 2 && parts.length != 3) {
            throw new UsageException("--point " + spec + ": expected x,y or x,y,label");
        }
        double[] xy = RegionInputs.numbers(parts[0] + "," + parts[1], 2, "--point", "x,y[,label]");
        int label = 1;
        if (parts.length == 3) {
            String l = parts[2].strip();
            if (!l.equals("0") && !l.equals("1")) {
                throw new UsageException("--point " + spec + ": label '" + parts[2]
                        + "' must be 1 (on the object) or 0 (not on it)");
            }
            label = Integer.parseInt(l);
        }
        return new SamPrompt.Point(xy[0], xy[1], label);
    }

    /** {@code x1,y1,x2,y2} in pixels. */
    static SamPrompt.Box box(String spec) {
        double[] v = RegionInputs.numbers(spec, 4, "--box", "x1,y1,x2,y2");
        return new SamPrompt.Box(v[0], v[1], v[2], v[3]);
    }

    /** Loads SAM, with a missing file or a checkpoint of another model as one usage line. */
    static SegmentService load(Path checkpoint) {
        if (!Files.isRegularFile(checkpoint)) {
            throw new UsageException("SAM checkpoint not found: " + checkpoint);
        }
        try {
            return SegmentService.load(checkpoint);
        } catch (osprey4j.core.io.CheckpointException e) {
            throw new UsageException("--sam " + checkpoint + ": " + OneLineErrors.message(e));
        }
    }
}
