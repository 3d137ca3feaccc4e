package osprey4j.train.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.model.tokenizer.SentencePieceModel;

/**
 * Other trainer settings against {@code spm_train}: the same pieces in the same order, and {@code spm_encode}
 * gives the same ids with our file as with {@code spm_train}'s. Settings: no byte fallback, full coverage,
 * whitespace-only pieces off, digits and numbers not split, scripts mixed, extra whitespace removed, short pieces; the corpus adds tabs, runs of spaces, spellings of control and byte
 * pieces and U+2047. Skipped, with a message, without Debian's {@code sentencepiece}.
 */
class SpmVariantsTest {
    @TempDir
    Path dir;

    record Variant(TrainerOptions options, List<String> flags) {
    }

    static Variant variant(int which) {
        TrainerOptions base = TrainerOptions.llama(500);
        return switch (which) {
            case 0 -> new Variant(new TrainerOptions(400, 1.0, false, true, true, true, true, false, 16, 4192, true,
                    false, 0, 0, true), List.of("--vocab_size=400", "--character_coverage=1.0", "--byte_fallback=false",
                    "--split_digits=true", "--allow_whitespace_only_pieces=false", "--max_sentencepiece_length=16",
                    "--remove_extra_whitespaces=false"));
            case 1 -> new Variant(new TrainerOptions(600, 0.9995, true, false, false, false, true, true, 6, 4192,
                    true, true, 0, 0, true), List.of("--vocab_size=600", "--character_coverage=0.9995",
                    "--byte_fallback=true", "--split_digits=false", "--split_by_unicode_script=false",
                    "--split_by_number=false", "--allow_whitespace_only_pieces=true",
                    "--max_sentencepiece_length=6", "--remove_extra_whitespaces=true"));
            default -> throw new IllegalArgumentException(String.valueOf(which) + base);
        };
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void sameAsSentencePiece(int which) throws Exception {
        Path spmTrain = SentencePieceBpeTrainerTest.findOnPath("spm_train");
        Path spmEncode = SentencePieceBpeTrainerTest.findOnPath("spm_encode");
        Assumptions.assumeTrue(spmTrain != null && spmEncode != null,
                "spm_train/spm_encode not found: install Debian's 'sentencepiece' package to compare with SentencePiece");
        Variant v = variant(which);
        List<String> corpus = new ArrayList<>(SyntheticText.corpus(13 + which, 3000));
        for (int i = 0; i < 40; i++) {   // leading, trailing and repeated spaces, tabs
            corpus.add("  the   red\tmug  " + i + "  ");
            corpus.add("\t\tstriped  \u00a0 kite\t ");
            corpus.add("the<s>red mug</s> a <0x41>kite<unk>x <0x4");   // control/byte piece spellings
            corpus.add("skipped \u2047 line");
        }
        Files.write(dir.resolve("corpus.txt"), corpus, StandardCharsets.UTF_8);
        List<String> cmd = new ArrayList<>(List.of(spmTrain.toString(), "--input=corpus.txt", "--model_prefix=spm",
                "--model_type=bpe", "--normalization_rule_name=identity", "--add_dummy_prefix=true",
                "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1", "--num_threads=1", "--minloglevel=2"));
        cmd.addAll(v.flags());
        run(cmd, dir);
        Path ours = dir.resolve("ours").resolve("tokenizer.model");
        SentencePieceBpeTrainer.train(corpus, v.options(), ours);
        List<SentencePieceModel.Piece> theirs = SentencePieceModel.read(dir.resolve("spm.model")).pieces();
        List<SentencePieceModel.Piece> mine = SentencePieceModel.read(ours).pieces();
        assertEquals(theirs.stream().map(SentencePieceModel.Piece::piece).toList(),
                mine.stream().map(SentencePieceModel.Piece::piece).toList());

        // SentencePiece reads our file as it reads its own: same ids from both models on every probe.
        List<String> probes = SyntheticText.probes(17, 1500);
        Files.write(dir.resolve("probes.txt"), (String.join("\n", probes) + "\n").getBytes(StandardCharsets.UTF_8));
        run(List.of(spmEncode.toString(), "--model=" + ours, "--output_format=id", "--input=probes.txt",
                "--output=ours.txt"), dir);
        run(List.of(spmEncode.toString(), "--model=spm.model", "--output_format=id", "--input=probes.txt",
                "--output=theirs.txt"), dir);
        assertEquals(Files.readAllLines(dir.resolve("theirs.txt")), Files.readAllLines(dir.resolve("ours.txt")));
    }

    private static void run(List<String> cmd, Path cwd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), cmd.getFirst() + " timed out");
        assertEquals(0, p.exitValue(), cmd.getFirst() + " failed: " + log);
    }
}
