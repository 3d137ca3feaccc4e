package osprey4j.train.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.model.tokenizer.SentencePieceModel;
import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;

class SentencePieceBpeTrainerTest {
    static final int VOCAB = 700;
    @TempDir
    static Path dir;
    static List<String> corpus;
    static SentencePieceBpeTrainer.Model model;
    static Path modelFile;

    @BeforeAll
    static void train() throws IOException {
        corpus = SyntheticText.corpus(7, 4000);
        modelFile = dir.resolve("tok").resolve("tokenizer.model");
        model = SentencePieceBpeTrainer.train(corpus, TrainerOptions.llama(VOCAB).withCharacterCoverage(0.9995),
                modelFile);
    }

    @Test
    void vocabularyHasLlamaLayout() {
        SentencePieceModel sp = SentencePieceModel.read(modelFile);
        assertEquals(VOCAB, sp.pieces().size());
        assertEquals(SentencePieceModel.ModelType.BPE, sp.modelType());
        assertTrue(sp.byteFallback());
        assertEquals(List.of(0, 1, 2, -1), List.of(sp.unkId(), sp.bosId(), sp.eosId(), sp.padId()));
        assertEquals("<unk>", sp.pieces().get(0).piece());
        assertEquals(SentencePieceModel.PieceType.UNKNOWN, sp.pieces().get(0).type());
        assertEquals(SentencePieceModel.PieceType.CONTROL, sp.pieces().get(1).type());
        assertEquals("</s>", sp.pieces().get(2).piece());
        for (int b = 0; b < 256; b++) {
            assertEquals(String.format("<0x%02X>", b), sp.pieces().get(3 + b).piece());
            assertEquals(SentencePieceModel.PieceType.BYTE, sp.pieces().get(3 + b).type());
        }
        assertEquals("identity", sp.normalizerName());
        assertTrue(sp.addDummyPrefix());
        assertFalse(sp.removeExtraWhitespaces());
        Set<String> seen = new HashSet<>();
        float last = 0;
        for (int i = 259; i < VOCAB; i++) {
            SentencePieceModel.Piece p = sp.pieces().get(i);
            assertTrue(seen.add(p.piece()), "duplicate piece " + p.piece());
            assertTrue(p.score() < last, "scores strictly decrease, none is zero");
            last = p.score();
        }
        // Rare symbols fell outside the 0.9995 coverage and are left to byte fallback.
        assertFalse(seen.contains("🚀"));
        assertTrue(seen.contains("▁the"));
        // Digits never merge (split_digits); a piece never mixes Latin and punctuation.
        for (String p : seen) {
            assertTrue(p.codePointCount(0, p.length()) == 1 || p.chars().noneMatch(Character::isDigit), p);
            assertFalse(p.length() > 1 && p.endsWith("."), p);
            assertFalse(p.indexOf('\u2581', 1) > 0 && !p.chars().allMatch(c -> c == 0x2581), p);
        }
    }

    @Test
    void trainingIsDeterministic() {
        byte[] again = SentencePieceBpeTrainer.train(corpus,
                TrainerOptions.llama(VOCAB).withCharacterCoverage(0.9995)).toModelProto();
        assertArrayEquals(model.toModelProto(), again);
        byte[] sampledA = SentencePieceBpeTrainer.train(corpus,
                TrainerOptions.llama(VOCAB).withSampling(1500, 3)).toModelProto();
        byte[] sampledB = SentencePieceBpeTrainer.train(corpus,
                TrainerOptions.llama(VOCAB).withSampling(1500, 3)).toModelProto();
        assertArrayEquals(sampledA, sampledB);
    }

    @Test
    void encodingReplaysTrainingOnCorpusWords() {
        // The learnt pieces are what the encoder produces for frequent words of the corpus.
        Tokenizer tok = Tokenizer.load(modelFile.getParent(), Tokenizer.Mode.SLOW_LEGACY);
        int[] ids = tok.encode("the", false);
        assertEquals(List.of("▁the"), tok.pieces(ids));
    }

    @Test
    void unreachableVocabularySizeIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SentencePieceBpeTrainer.train(List.of("ab ab ab"), TrainerOptions.llama(300)));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
        SentencePieceBpeTrainer.Model soft = SentencePieceBpeTrainer.train(List.of("ab ab ab"),
                TrainerOptions.llama(300).withSoftVocabLimit());
        assertEquals(List.of("ab", "▁ab", "a", "b", "▁"), soft.pieces().subList(259, soft.pieces().size()).stream()
                .map(SentencePieceBpeTrainer.Piece::piece).toList());
        assertEquals(264, SentencePieceModel.parse(soft.toModelProto()).pieces().size());
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> SentencePieceBpeTrainer.train(corpus, TrainerOptions.llama(260)));
        assertTrue(small.getMessage().contains("required characters"), small.getMessage());
    }

    @Test
    void ourTokenizerAndDebianSentencepieceEncodeIdentically() throws Exception {
        Path spmEncode = findOnPath("spm_encode");
        Assumptions.assumeTrue(spmEncode != null,
                "spm_encode not found: install Debian's 'sentencepiece' package to compare with SentencePiece itself");
        List<String> probes = SyntheticText.probes(11, 3000);
        Path input = dir.resolve("probes.txt");
        Files.write(input, (String.join("\n", probes) + "\n").getBytes(StandardCharsets.UTF_8));
        Path output = dir.resolve("ids.txt");
        Process p = new ProcessBuilder(spmEncode.toString(), "--model=" + modelFile, "--output_format=id",
                "--input=" + input, "--output=" + output).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "spm_encode timed out");
        assertEquals(0, p.exitValue(), "spm_encode failed: " + log);
        List<String> lines = Files.readAllLines(output, StandardCharsets.UTF_8);
        assertEquals(probes.size(), lines.size());

        Tokenizer slow = Tokenizer.load(modelFile.getParent(), Tokenizer.Mode.SLOW_LEGACY);
        Tokenizer fast = Tokenizer.load(modelFile.getParent(), Tokenizer.Mode.FAST);
        int byteFallbacks = 0;
        List<String> fastDiffers = new ArrayList<>();
        for (int i = 0; i < probes.size(); i++) {
            String text = probes.get(i);
            int[] expected = lines.get(i).isBlank() ? new int[0]
                    : Arrays.stream(lines.get(i).trim().split(" ")).mapToInt(Integer::parseInt).toArray();
            int[] ours = slow.encode(text, false);
            int n = i;
            assertArrayEquals(expected, ours, () -> "probe " + n + " \"" + text + "\"\n spm  "
                    + slow.pieces(expected) + "\n ours " + slow.pieces(ours));
            if (!Arrays.equals(expected, fast.encode(text, false))) {
                fastDiffers.add(text);
            }
            byteFallbacks += Arrays.stream(expected).anyMatch(id -> id >= 3 && id < 259) ? 1 : 0;
        }
        assertTrue(byteFallbacks > 100, "the probes exercise byte fallback (" + byteFallbacks + ")");
        // The fast path (transformers' LlamaConverter merges + BPE, the way the reference loads a tokenizer.model
        // with use_fast=True; our converter is checked against the Rust tokenizers in osprey-model) ranks merges
        // by the same scores; no score is zero, so no piece is lost and the ids must agree everywhere.
        assertEquals(List.of(), fastDiffers, "fast tokenizer differs from SentencePiece");
    }

    @Test
    void learntPiecesMatchSpmTrainOnTheSameCorpus() throws Exception {
        Path spmTrain = findOnPath("spm_train");
        Assumptions.assumeTrue(spmTrain != null,
                "spm_train not found: install Debian's 'sentencepiece' package to compare with SentencePiece itself");
        Path work = Files.createDirectories(dir.resolve("spm_train"));
        Files.write(work.resolve("corpus.txt"), corpus, StandardCharsets.UTF_8);
        Process p = new ProcessBuilder(spmTrain.toString(), "--input=corpus.txt", "--model_prefix=spm",
                "--model_type=bpe", "--vocab_size=" + VOCAB, "--character_coverage=0.9995", "--byte_fallback=true",
                "--split_digits=true", "--normalization_rule_name=identity", "--add_dummy_prefix=true",
                "--remove_extra_whitespaces=false", "--allow_whitespace_only_pieces=true",
                "--max_sentencepiece_length=16", "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1",
                "--num_threads=1", "--minloglevel=2").directory(work.toFile()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "spm_train timed out");
        assertEquals(0, p.exitValue(), "spm_train failed: " + log);
        List<SentencePieceModel.Piece> theirs = SentencePieceModel.read(work.resolve("spm.model")).pieces();
        List<SentencePieceModel.Piece> ours = SentencePieceModel.read(modelFile).pieces();
        assertEquals(theirs.size(), ours.size());
        for (int i = 0; i < ours.size(); i++) {
            assertEquals(theirs.get(i).piece(), ours.get(i).piece(), "piece " + i);
            assertEquals(theirs.get(i).type(), ours.get(i).type(), "type of piece " + i);
            if (i >= 259) {
                // spm_train scores piece k (0-based after the byte pieces) -k; ours -(k + 1).
                assertEquals(theirs.get(i).score() - 1, ours.get(i).score(), "score of piece " + i);
            }
        }
    }

    static Path findOnPath(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(d, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
