package osprey4j.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/** torch.save files against the values torch itself recorded in the manifest. */
class TorchCheckpointTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"torch_dtypes.pt", "torch_views.pt", "torch_views_zip64.pt", "torch_state_dict.pt",
            "torch_wrapped.pt", "torch_nested.pt", "handmade_zip.pt"})
    void tensorsMatchTorch(String name) {
        try (Checkpoint ckpt = Checkpoints.open(Fixtures.path(name))) {
            Fixtures.assertMatchesManifest(ckpt, name);
        }
    }

    @Test
    void contiguousViewsAreZeroCopyAndStridedOnesAreCopies() {
        try (Checkpoint ckpt = Checkpoints.open(Fixtures.path("torch_views.pt"))) {
            assertTrue(ckpt.tensor("base").segment().isMapped());
            assertTrue(ckpt.tensor("row_slice").segment().isMapped(), "a row slice is contiguous");
            assertTrue(ckpt.tensor("shared_b").segment().isMapped());
            assertFalse(ckpt.tensor("transposed").segment().isMapped());
            assertFalse(ckpt.tensor("expanded").segment().isMapped());
            // row_slice = base[2:5]: the same bytes as rows 2..4 of base
            Tensor base = ckpt.tensor("base");
            Tensor rows = ckpt.tensor("row_slice");
            assertEquals(base.getFloat(2 * 5), rows.getFloat(0));
            // shared_a and shared_b view one storage: shared_b[0][0] is element 6 of it
            assertEquals(ckpt.tensor("shared_a").segment().address() + 6 * 4, ckpt.tensor("shared_b").segment().address());
        }
    }

    @Test
    void stateDictNamesAndScalars() {
        try (Checkpoint ckpt = Checkpoints.open(Fixtures.path("torch_state_dict.pt"))) {
            assertTrue(ckpt.contains("0.weight"));
            assertEquals(DType.I64, ckpt.info("3.num_batches_tracked").dtype());
            assertEquals(0, ckpt.info("3.num_batches_tracked").shape().length);
        }
    }

    @Test
    void wrappedAndNestedCheckpointsKeepTheirScalarsAsMetadata() {
        try (Checkpoint ckpt = Checkpoints.open(Fixtures.path("torch_wrapped.pt"))) {
            assertEquals(Map.of("epoch", "7", "note", "wrapped"), ckpt.metadata());
            assertTrue(ckpt.contains("0.weight"), "the state_dict wrapper is unwrapped");
        }
        try (Checkpoint ckpt = Checkpoints.open(Fixtures.path("torch_nested.pt"))) {
            assertEquals(Map.of("step", "3"), ckpt.metadata());
        }
    }

    @Test
    void missingKeyIsNamed() {
        try (Checkpoint ckpt = Checkpoints.open(Fixtures.path("torch_dtypes.pt"))) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> ckpt.tensor("nope.weight"));
            assertTrue(e.getMessage().contains("'nope.weight'"), e.getMessage());
        }
    }

    @Test
    void refusesOsSystem() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Checkpoints.open(Fixtures.path("evil_os_system.pt")));
        assertTrue(e.getMessage().contains("refusing to load global posix.system"), e.getMessage());
        assertTrue(e.getMessage().contains("evil_os_system.pt"), e.getMessage());
    }

    @Test
    void refusesEval() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Checkpoints.open(Fixtures.path("evil_eval.pt")));
        assertTrue(e.getMessage().contains("refusing to load global __builtin__.eval (builtins.eval)"), e.getMessage());
    }

    /** A pickle that would create a file if anything ran: it must be refused and the file must not appear. */
    @Test
    void nothingRunsWhenAGlobalIsRefused() throws IOException {
        Path marker = tmp.resolve("pwned");
        for (String global : new String[] {"os\nsystem\n", "builtins\nexec\n", "torch.storage\n_load_from_bytes\n",
                "subprocess\ncall\n"}) {
            byte[] command = ("touch " + marker).getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream pkl = new ByteArrayOutputStream();
            pkl.write(new byte[] {(byte) 0x80, 2, '}', 'X', 1, 0, 0, 0, 'w', 'c'});
            pkl.write(global.getBytes(StandardCharsets.US_ASCII));
            pkl.write('X');
            pkl.write(new byte[] {(byte) command.length, 0, 0, 0});
            pkl.write(command);
            pkl.write(new byte[] {(byte) 0x85, 'R', 's', '.'});
            Path file = torchLikeZip("evil.bin", Map.of("archive/data.pkl", pkl.toByteArray()));
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
            String qualified = global.strip().replace('\n', '.');
            assertTrue(e.getMessage().contains("refusing to load global " + qualified), e.getMessage());
        }
        assertFalse(Files.exists(marker));
    }

    @Test
    void legacyFormatGetsResaveAdvice() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Checkpoints.open(Fixtures.path("legacy.pt")));
        assertTrue(e.getMessage().contains("legacy"), e.getMessage());
        assertTrue(e.getMessage().contains("torch.save(torch.load("), e.getMessage());
    }

    @Test
    void viewPastItsStorageIsRefused() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Checkpoints.open(Fixtures.path("bad_view.pt")));
        assertTrue(e.getMessage().contains("reaches past the end of its storage"), e.getMessage());
    }

    @Test
    void storageLargerThanItsEntryIsRefused() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Checkpoints.open(Fixtures.path("bad_storage_size.pt")));
        assertTrue(e.getMessage().contains("declares 100 F32 elements"), e.getMessage());
    }

    @Test
    void truncatedZipIsRefused() throws IOException {
        byte[] bytes = Files.readAllBytes(Fixtures.path("torch_dtypes.pt"));
        for (int keep : new int[] {10, 100, bytes.length / 2, bytes.length - 30, bytes.length - 1}) {
            Path cut = tmp.resolve("cut" + keep + ".pt");
            Files.write(cut, java.util.Arrays.copyOf(bytes, keep));
            assertThrows(CheckpointException.class, () -> Checkpoints.open(cut).close(), "kept " + keep);
        }
    }

    @Test
    void entryOffsetsPastTheEndAreRefused() throws IOException {
        // Point the first central-directory entry's local header offset far beyond the file.
        byte[] bytes = Files.readAllBytes(Fixtures.path("torch_dtypes.pt"));
        int cd = lastIndexOf(bytes, new byte[] {'P', 'K', 1, 2});
        int first = indexOf(bytes, new byte[] {'P', 'K', 1, 2});
        assertTrue(first > 0 && cd >= first);
        bytes[first + 42] = 0;
        bytes[first + 43] = 0;
        bytes[first + 44] = 0;
        bytes[first + 45] = 0x70;
        Path file = tmp.resolve("far.pt");
        Files.write(file, bytes);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
        assertTrue(e.getMessage().contains("local header"), e.getMessage());
    }

    @Test
    void wrongMagicIsRefused() throws IOException {
        Path file = tmp.resolve("model.bin");
        Files.write(file, "this is not a checkpoint at all".getBytes(StandardCharsets.US_ASCII));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
        assertTrue(e.getMessage().contains("not a checkpoint"), e.getMessage());
        Path zip = torchLikeZip("plain.zip", Map.of("readme.txt", new byte[] {1, 2, 3}));
        e = assertThrows(CheckpointException.class, () -> Checkpoints.open(zip));
        assertTrue(e.getMessage().contains("not a torch.save archive"), e.getMessage());
    }

    @Test
    void deflatedStorageIsRefusedButItsMessageIsClear() throws IOException {
        // Re-zip a real checkpoint with compression: the pickle is inflated, the tensor data cannot be mapped.
        Path file = tmp.resolve("deflated.pt");
        try (var in = new java.util.zip.ZipFile(Fixtures.path("torch_nested.pt").toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
            for (var entries = in.entries(); entries.hasMoreElements(); ) {
                ZipEntry e = entries.nextElement();
                out.putNextEntry(new ZipEntry(e.getName()));
                out.write(in.getInputStream(e).readAllBytes());
                out.closeEntry();
            }
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
        assertTrue(e.getMessage().contains("is compressed"), e.getMessage());
    }

    /** A zip with STORED entries, the way torch writes them (without torch's alignment padding). */
    private Path torchLikeZip(String name, Map<String, byte[]> entries) throws IOException {
        Path file = tmp.resolve(name);
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(e.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                entry.setCrc(crc.getValue());
                out.putNextEntry(entry);
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        return file;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static int lastIndexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = hay.length - needle.length; i >= 0; i--) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
