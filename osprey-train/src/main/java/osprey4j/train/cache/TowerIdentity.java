package osprey4j.train.cache;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.io.TensorInfo;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.OspreyConfig;
import osprey4j.model.vision.ConvNextTower;

/**
 * The identity of the vision tower a model directory runs: SHA-256 over the name, dtype, shape and bytes of every
 * ConvNeXt trunk tensor the reference uses, taken where the reference takes it (layer-scale gammas from the CLIP
 * file named by {@code mm_vision_tower}, everything else from the Osprey weights; see {@link ConvNextTower}).
 * Two directories whose towers compute the same features have the same identity, whatever else differs, so a
 * feature cache survives training the LLM, the projector and the mask extractor.
 */
public final class TowerIdentity {
    private TowerIdentity() {
    }

    /** The identity of the tower of the model directory {@code dir}, as 64 hex digits. */
    public static String of(Path dir) {
        OspreyConfig config = OspreyConfig.read(dir);
        try (Checkpoint osprey = Checkpoints.open(dir)) {
            Optional<Path> clipFile = config.findVisionTowerFile(dir);
            if (clipFile.isEmpty()) {
                return of(osprey, null);
            }
            try (Checkpoint clip = Checkpoints.open(clipFile.get())) {
                return of(osprey, clip);
            }
        }
    }

    /** The identity of the tower held by {@code osprey} (and {@code clip}, which may be null). */
    public static String of(Checkpoint osprey, Checkpoint clip) {
        String ospreyPrefix = ConvNextTower.findPrefix(osprey);
        String clipPrefix = clip == null ? null : ConvNextTower.findPrefix(clip);
        Checkpoint main = ospreyPrefix != null ? osprey : clip;
        String prefix = ospreyPrefix != null ? ospreyPrefix : clipPrefix;
        if (main == null || prefix == null) {
            throw new IllegalArgumentException("no ConvNeXt tower in the model weights or the CLIP file");
        }
        MessageDigest sha = sha256();
        List<TensorInfo> infos = main.tensors().stream().filter(t -> t.name().startsWith(prefix))
                .sorted((a, b) -> a.name().compareTo(b.name())).toList();
        for (TensorInfo info : infos) {
            String suffix = info.name().substring(prefix.length());
            Checkpoint from = main;
            String name = info.name();
            if (suffix.endsWith("gamma") && clipPrefix != null && clip.contains(clipPrefix + suffix)) {
                from = clip;
                name = clipPrefix + suffix;
            }
            Tensor t = from.tensor(name);
            sha.update((suffix + "\0" + t.dtype() + "\0" + java.util.Arrays.toString(t.shape()) + "\0")
                    .getBytes(StandardCharsets.UTF_8));
            sha.update(t.segment().asByteBuffer());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
