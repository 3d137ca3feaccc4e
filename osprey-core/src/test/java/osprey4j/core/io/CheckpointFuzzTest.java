package osprey4j.core.io;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import osprey4j.core.tensor.Tensor;

/**
 * Damaged files must fail with a {@link CheckpointException} (or still load), never with another exception,
 * an out-of-memory error or a hang. Mutations are biased toward the structural parts of the file (the
 * safetensors header, the pickle at the start of a torch zip, the zip directory at its end), where random
 * flips over a mostly-data file would rarely land.
 */
class CheckpointFuzzTest {
    /** 300 per file by default; -Dosprey.fuzz.iterations=N for a longer hunt. */
    private static final int ITERATIONS = Integer.getInteger("osprey.fuzz.iterations", 300);

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"tensors.safetensors", "torch_views.pt", "torch_views_zip64.pt", "torch_state_dict.pt",
            "handmade_zip.pt", "sharded/model.safetensors.index.json"})
    void damagedFilesFailCleanly(String fixture) throws IOException {
        byte[] original = Files.readAllBytes(Fixtures.path(fixture));
        Path file = tmp.resolve(Path.of(fixture).getFileName().toString());
        if (fixture.startsWith("sharded/")) {
            for (String shard : new String[] {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
                Files.copy(Fixtures.path("sharded/" + shard), tmp.resolve(shard));
            }
        }
        Files.write(file, original);
        try (Checkpoint intact = Checkpoints.open(file)) {
            intact.tensors().forEach(info -> touch(intact.tensor(info.name())));
        }
        SplittableRandom random = new SplittableRandom(fixture.hashCode());
        int[] refused = new int[1];
        assertTimeoutPreemptively(Duration.ofMinutes(3), () -> {
            for (int i = 0; i < ITERATIONS; i++) {
                byte[] damaged = mutate(original, random);
                Files.write(file, damaged);
                try (Checkpoint ckpt = Checkpoints.open(file)) {
                    for (TensorInfo info : ckpt.tensors()) {
                        touch(ckpt.tensor(info.name()));
                    }
                } catch (CheckpointException expected) {
                    refused[0]++;
                } catch (Throwable t) {
                    Files.write(tmp.resolve("failing-" + i), damaged);
                    fail("iteration " + i + " of " + fixture + " threw " + t, t);
                }
            }
        });
        System.out.println(fixture + ": " + refused[0] + " of " + ITERATIONS + " damaged files refused");
        // the mutations must actually exercise the validation, not only flip tensor data
        assertTrue(refused[0] > ITERATIONS / 5, refused[0] + " refusals");
    }

    private static byte[] mutate(byte[] original, SplittableRandom random) {
        byte[] b = original.clone();
        int kind = random.nextInt(10);
        if (kind == 0) {
            return Arrays.copyOf(b, random.nextInt(b.length));               // truncation
        }
        int flips = 1 + random.nextInt(8);
        int zone = Math.min(b.length, 1024);
        for (int f = 0; f < flips; f++) {
            int at = switch (kind % 3) {
                case 0 -> random.nextInt(b.length);                          // anywhere
                case 1 -> random.nextInt(zone);                              // header / pickle
                default -> b.length - 1 - random.nextInt(zone);              // zip directory
            };
            if (random.nextBoolean()) {
                b[at] ^= (byte) (1 << random.nextInt(8));
            } else {
                b[at] = (byte) random.nextInt(256);
            }
        }
        return b;
    }

    private static long touch(Tensor t) {
        long h = 0;
        byte[] bytes = t.segment().toArray(ValueLayout.JAVA_BYTE);
        for (byte x : bytes) {
            h = h * 31 + x;
        }
        return h;
    }
}
