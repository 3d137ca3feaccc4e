package osprey4j.core.mask;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PNGs written by Pillow are read back to the values Pillow stored; our PNGs have the promised format. */
class MaskPngTest {
    private static JsonNode expected;
    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = MaskPngTest.class.getResourceAsStream("png_fixtures.json")) {
            expected = new ObjectMapper().readTree(in).get("png");
        }
    }

    private Path resource(String name) throws IOException {
        Path p = tmp.resolve(name);
        Files.deleteIfExists(p);
        try (InputStream in = MaskPngTest.class.getResourceAsStream(name)) {
            Files.copy(in, p);
        }
        return p;
    }

    @Test
    void binaryMasksFromEveryFormat() throws IOException {
        for (String name : new String[] {"mask_1bit.png", "mask_gray8.png", "mask_rgb.png", "mask_rgba.png",
                "instances_palette.png", "instances_gray16.png"}) {
            Mask m = MaskPng.read(resource(name));
            assertEquals(MaskTest.fromRows(expected.get(name)), m, name);
        }
    }

    @Test
    void instancesFromPaletteIndicesAndSixteenBitGrey() throws IOException {
        for (String name : new String[] {"instances_palette.png", "instances_gray16.png"}) {
            JsonNode rows = expected.get(name);
            SortedMap<Integer, Mask> got = MaskPng.readInstances(resource(name));
            Map<Integer, Long> areas = new TreeMap<>();
            rows.forEach(r -> r.forEach(v -> {
                if (v.intValue() != 0) {
                    areas.merge(v.intValue(), 1L, Long::sum);
                }
            }));
            assertEquals(areas.keySet(), got.keySet(), name);
            for (int id : areas.keySet()) {
                Mask m = got.get(id);
                assertEquals(areas.get(id), m.area(), name + " id " + id);
                for (int y = 0; y < m.height(); y++) {
                    for (int x = 0; x < m.width(); x++) {
                        assertEquals(rows.get(y).get(x).intValue() == id, m.get(x, y));
                    }
                }
            }
        }
    }

    @Test
    void writesEightBitZeroOr255AndOneBitGrey() throws IOException {
        Mask m = Mask.fromPredicate(37, 11, (x, y) -> (x * 7 + y * 3) % 5 == 0);
        Path p8 = tmp.resolve("m8.png"), p1 = tmp.resolve("m1.png");
        MaskPng.write(m, p8);
        MaskPng.write1Bit(m, p1);
        assertEquals(m, MaskPng.read(p8));
        assertEquals(m, MaskPng.read(p1));
        // IHDR: bit depth at byte 24, colour type at byte 25 (0 = greyscale).
        byte[] b8 = Files.readAllBytes(p8), b1 = Files.readAllBytes(p1);
        assertArrayEquals(new byte[] {8, 0}, new byte[] {b8[24], b8[25]});
        assertArrayEquals(new byte[] {1, 0}, new byte[] {b1[24], b1[25]});
        // 8-bit foreground pixels hold 255.
        var img = javax.imageio.ImageIO.read(p8.toFile());
        assertEquals(255, img.getRaster().getSample(0, 0, 0));
        assertEquals(0, img.getRaster().getSample(1, 0, 0));
    }

    @Test
    void instancesRoundTrip() throws IOException {
        Random r = new Random(3);
        SortedMap<Integer, Mask> in = new TreeMap<>();
        for (int id : new int[] {1, 2, 255}) {
            in.put(id, Mask.fromPredicate(20, 9, (x, y) -> r.nextInt(4) == 0));
        }
        // Make them disjoint so the round trip is exact (overlaps go to the larger id).
        in.put(1, in.get(1).minus(in.get(2)).minus(in.get(255)));
        in.put(2, in.get(2).minus(in.get(255)));
        Path p = tmp.resolve("ids.png");
        MaskPng.writeInstances(in, 20, 9, p);
        byte[] b = Files.readAllBytes(p);
        assertArrayEquals(new byte[] {8, 3}, new byte[] {b[24], b[25]}); // 8-bit palette
        assertEquals(in, MaskPng.readInstances(p));
    }

    @Test
    void notAnImage() throws IOException {
        Path p = tmp.resolve("x.png");
        Files.writeString(p, "hello");
        IOException e = assertThrows(IOException.class, () -> MaskPng.read(p));
        assertEquals(true, e.getMessage().contains("x.png"));
    }
}
