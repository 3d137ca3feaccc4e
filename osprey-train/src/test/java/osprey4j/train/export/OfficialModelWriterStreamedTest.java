package osprey4j.train.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/** {@link RandomWeights#streamed} and {@link OfficialModelWriter#writeStreamed} against their in-memory twins. */
class OfficialModelWriterStreamedTest {
    @TempDir
    Path tmp;

    @Test
    void streamedWeightsAreTheInMemoryWeightsAndRepeatable() {
        OspreyShape shape = OfficialModelWriterTest.smallShape();
        Map<String, Tensor> all = RandomWeights.of(shape, 5);
        Map<String, Function<Arena, Tensor>> streamed = RandomWeights.streamed(shape, 5);
        assertEquals(List.copyOf(all.keySet()), List.copyOf(streamed.keySet()));
        // Made in reverse order, and one of them twice: each is the same tensor whatever was made before.
        List<String> names = new java.util.ArrayList<>(streamed.keySet());
        java.util.Collections.reverse(names);
        for (String name : names) {
            try (Arena arena = Arena.ofConfined()) {
                Tensor t = streamed.get(name).apply(arena);
                assertEquals(DType.F32, t.dtype());
                assertArrayEquals(all.get(name).shape(), t.shape(), name);
                assertArrayEquals(all.get(name).toFloatArray(), t.toFloatArray(), name);
            }
        }
        String embed = "model.embed_tokens.weight";
        assertArrayEquals(streamed.get(embed).apply(Arena.ofAuto()).toFloatArray(),
                streamed.get(embed).apply(Arena.ofAuto()).toFloatArray());
        assertTrue(!java.util.Arrays.equals(all.get(embed).toFloatArray(),
                RandomWeights.of(shape, 6).get(embed).toFloatArray()), "another seed, other values");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void streamedDirectoryIsByteForByteTheInMemoryOne(DType dtype) throws IOException {
        OspreyShape shape = OfficialModelWriterTest.smallShape();
        OfficialModelWriter.Options options = OfficialModelWriter.Options.osprey(
                OfficialModelWriterTest.resource("tokenizer.model"), dtype);
        Path inMemory = tmp.resolve("memory");
        Path streamed = tmp.resolve("streamed");
        OfficialModelWriter.write(inMemory, shape, RandomWeights.of(shape, 9), options);
        OfficialModelWriter.writeStreamed(streamed, shape, RandomWeights.streamed(shape, 9), options);
        List<String> files;
        try (Stream<Path> s = Files.list(inMemory)) {
            files = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        try (Stream<Path> s = Files.list(streamed)) {
            assertEquals(files, s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertTrue(files.contains(OfficialModelWriter.WEIGHTS_FILE) && files.contains(OfficialModelWriter.CLIP_FILE));
        for (String f : files) {
            assertArrayEquals(Files.readAllBytes(inMemory.resolve(f)), Files.readAllBytes(streamed.resolve(f)), f);
        }
    }

    @Test
    void streamedWriterNamesMissingUnexpectedAndMisshapenTensors() {
        OspreyShape shape = OfficialModelWriterTest.smallShape();
        OfficialModelWriter.Options options = OfficialModelWriter.Options.osprey(
                OfficialModelWriterTest.resource("tokenizer.model"), DType.BF16);
        Path dir = tmp.resolve("model");
        Map<String, Function<Arena, Tensor>> missing = new LinkedHashMap<>(RandomWeights.streamed(shape, 1));
        missing.remove("model.norm.weight");
        var e1 = assertThrows(IllegalArgumentException.class,
                () -> OfficialModelWriter.writeStreamed(dir, shape, missing, options));
        assertTrue(e1.getMessage().contains("missing tensor 'model.norm.weight'"), e1.getMessage());

        Map<String, Function<Arena, Tensor>> extra = new LinkedHashMap<>(RandomWeights.streamed(shape, 1));
        extra.put("model.extra.weight", a -> Tensor.zeros(a, DType.F32, 2));
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> OfficialModelWriter.writeStreamed(dir, shape, extra, options));
        assertTrue(e2.getMessage().contains("unexpected tensor 'model.extra.weight'"), e2.getMessage());

        Map<String, Function<Arena, Tensor>> wrong = new LinkedHashMap<>(RandomWeights.streamed(shape, 1));
        wrong.put("model.layers.1.mlp.up_proj.weight", a -> Tensor.zeros(a, DType.F32, 3, 64));
        var e3 = assertThrows(RuntimeException.class,
                () -> OfficialModelWriter.writeStreamed(dir, shape, wrong, options));
        assertTrue(String.valueOf(e3.getMessage()).contains("model.layers.1.mlp.up_proj.weight")
                || String.valueOf(e3.getCause()).contains("model.layers.1.mlp.up_proj.weight"), e3.toString());
        assertTrue(!Files.exists(dir), "nothing is left behind");
    }
}
