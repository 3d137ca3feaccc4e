package osprey4j.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.io.TorchUnpickler.StorageRef;
import osprey4j.core.tensor.DType;

/** The pickle VM on hand-assembled programs: what it builds, and that hostile ones end in a clean refusal. */
class TorchUnpicklerTest {
    @TempDir
    Path tmp;

    private static Object load(byte[] pickle) {
        return TorchUnpickler.load("test.pkl", pickle, pid -> new StorageRef("0", DType.F32, 4));
    }

    @Test
    void buildsPlainValues() {
        // {'a': [1, -2, 3.5, True, None], 'b': (b'xy', 'é'), 'c': 2**70}
        Pickle p = new Pickle().proto(4).op(0x7d).op(0x28).str("a").op(0x5d).op(0x28)
                .op(0x4b, 1).op(0x4a).i32(-2).op(0x47).f64(3.5).op(0x88).op(0x4e).op(0x65)
                .str("b").op(0x43, 2).raw("xy".getBytes(StandardCharsets.US_ASCII)).str("é").op(0x86)
                .str("c").op(0x8a, 9).raw(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 64}).op(0x75).op(0x2e);
        Object o = load(p.bytes());
        Map<?, ?> m = assertInstanceOf(Map.class, o);
        assertEquals(java.util.Arrays.asList(1L, -2L, 3.5, true, null), m.get("a"));
        TorchUnpickler.PyTuple b = assertInstanceOf(TorchUnpickler.PyTuple.class, m.get("b"));
        assertEquals("xy", new String((byte[]) b.get(0), StandardCharsets.US_ASCII));
        assertEquals("é", b.get(1));
        assertEquals(java.math.BigInteger.TWO.pow(70), m.get("c"));
    }

    @Test
    void refusesSelfReferencingDictKeys() {
        // l = []; t = (l,); l.append(t); {t: None}  -- Python refuses too: a tuple holding a list is unhashable
        Pickle p = new Pickle().proto(4).op(0x5d).op(0x94).op(0x68, 0).op(0x85).op(0x94).op(0x61)
                .op(0x7d).op(0x68, 1).op(0x4e).op(0x73).op(0x2e);
        CheckpointException e = assertThrows(CheckpointException.class, () -> load(p.bytes()));
        assertTrue(e.getMessage().contains("tuple holding a list"), e.getMessage());
    }

    @Test
    void refusesNestedTupleKeysThatWouldTakeExponentialTimeToCompare() {
        // t(i+1) = (ti, ti), twice from distinct leaves; comparing the two would take 2^40 steps
        Pickle p = new Pickle().proto(4).op(0x7d);
        for (int copy = 0; copy < 2; copy++) {
            p.str("leaf");
            for (int i = 0; i < 40; i++) {
                p.op(0x32).op(0x86);
            }
            p.op(0x4e).op(0x73);
        }
        p.op(0x2e);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            CheckpointException e = assertThrows(CheckpointException.class, () -> load(p.bytes()));
            assertTrue(e.getMessage().contains("tuple holding a tuple"), e.getMessage());
        });
    }

    @Test
    void exponentialSharingIsRefusedQuickly() throws IOException {
        // l0 = []; l(i+1) = [li, li] for 60 levels: a few hundred bytes describing 2^60 list slots.
        Pickle p = new Pickle().proto(2).op(0x7d).str("x").op(0x5d);
        for (int i = 0; i < 60; i++) {
            p.op(0x72).i32(i).op(0x30).op(0x5d).op(0x28).op(0x6a).i32(i).op(0x6a).i32(i).op(0x65);
        }
        p.op(0x73).op(0x2e);
        Path file = zip(p.bytes());
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
            assertTrue(e.getMessage().contains("too large"), e.getMessage());
        });
    }

    /** Random opcode soup: every program ends in a value or a CheckpointException, quickly. */
    @Test
    void randomProgramsFailCleanly() {
        SplittableRandom random = new SplittableRandom(42);
        int[] opcodes = {0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x88, 0x89, 0x4a, 0x4b, 0x4d, 0x8a, 0x8b, 0x47, 0x58,
                0x8c, 0x43, 0x42, 0x29, 0x74, 0x85, 0x86, 0x87, 0x5d, 0x6c, 0x61, 0x65, 0x7d, 0x64, 0x73, 0x75, 0x8f,
                0x90, 0x91, 0x68, 0x6a, 0x71, 0x72, 0x94, 0x63, 0x93, 0x52, 0x81, 0x92, 0x62, 0x51, 0x95, 0x80,
                0x49, 0x4c, 0x46, 0x67, 0x70, 0x69, 0x53, 0x82, 0x97, 0x00, 0xff};
        List<String> globals = List.of("collections\nOrderedDict\n", "torch._utils\n_rebuild_tensor_v2\n",
                "torch._utils\n_rebuild_parameter\n", "torch\nFloatStorage\n", "torch\nSize\n",
                "torch._tensor\n_rebuild_from_type_v2\n", "torch\nTensor\n", "os\nsystem\n");
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            int values = 0;
            for (int n = 0; n < 20_000; n++) {
                Pickle p = new Pickle().proto(2);
                int length = 1 + random.nextInt(40);
                for (int k = 0; k < length; k++) {
                    int op = opcodes[random.nextInt(opcodes.length)];
                    p.op(op);
                    switch (op) {
                        case 0x4a, 0x6a, 0x72 -> p.i32(random.nextInt(8) - 1);
                        case 0x4b, 0x68, 0x71, 0x80 -> p.raw(new byte[] {(byte) random.nextInt(6)});
                        case 0x4d -> p.raw(new byte[] {(byte) random.nextInt(256), 0});
                        case 0x8a, 0x8c, 0x43 -> {
                            int len = random.nextInt(5);
                            p.raw(new byte[] {(byte) len}).raw(randomBytes(random, len));
                        }
                        case 0x8b, 0x58, 0x42 -> {
                            int len = random.nextInt(5);
                            p.i32(random.nextInt(4) == 0 ? Integer.MAX_VALUE : len).raw(randomBytes(random, len));
                        }
                        case 0x47 -> p.f64(random.nextDouble());
                        case 0x95 -> p.raw(new byte[] {(byte) random.nextInt(100), 0, 0, 0, 0, 0, 0, 0});
                        case 0x63 -> p.raw(globals.get(random.nextInt(globals.size())).getBytes(StandardCharsets.US_ASCII));
                        case 0x49, 0x4c, 0x46, 0x67, 0x70 -> p.raw((random.nextInt(50) + "\n").getBytes(StandardCharsets.US_ASCII));
                        default -> {
                        }
                    }
                }
                if (random.nextBoolean()) {
                    p.op(0x2e);
                }
                try {
                    load(p.bytes());
                    values++;
                } catch (CheckpointException expected) {
                    // a clean refusal
                } catch (Throwable t) {
                    fail("program " + n + " threw " + t, t);
                }
            }
            assertTrue(values > 100, "some random programs should be valid: " + values);
        });
    }

    private static byte[] randomBytes(SplittableRandom random, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (random.nextBoolean() ? 'a' + random.nextInt(26) : random.nextInt(256));
        }
        return b;
    }

    private Path zip(byte[] pickle) throws IOException {
        Path file = tmp.resolve("p.pt");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
            ZipEntry entry = new ZipEntry("archive/data.pkl");
            entry.setMethod(ZipEntry.STORED);
            entry.setSize(pickle.length);
            CRC32 crc = new CRC32();
            crc.update(pickle);
            entry.setCrc(crc.getValue());
            out.putNextEntry(entry);
            out.write(pickle);
            out.closeEntry();
        }
        return file;
    }

    /** A tiny assembler for pickle byte code. */
    private static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickle proto(int v) {
            return op(0x80, v);
        }

        Pickle op(int code) {
            out.write(code);
            return this;
        }

        Pickle op(int code, int byteArg) {
            out.write(code);
            out.write(byteArg);
            return this;
        }

        Pickle i32(int v) {
            for (int i = 0; i < 4; i++) {
                out.write(v >>> (8 * i));
            }
            return this;
        }

        Pickle f64(double d) {
            long bits = Double.doubleToLongBits(d);
            for (int i = 7; i >= 0; i--) {
                out.write((int) (bits >>> (8 * i)));
            }
            return this;
        }

        Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            out.write(0x8c);
            out.write(b.length);
            out.writeBytes(b);
            return this;
        }

        Pickle raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
