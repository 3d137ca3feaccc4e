package osprey4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import osprey4j.data.datasets.Turn;
import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;

class PreprocessorTest {
    static final int I = Preprocessor.IGNORE_INDEX;

    @Test
    void pythonSlicesClipAndWrap() {
        int[] t = {1, 2, 3, 4, 5};
        Preprocessor.fill(t, 3, 100);
        assertArrayEquals(new int[] {1, 2, 3, I, I}, t);
        int[] u = {1, 2, 3, 4, 5};
        Preprocessor.fill(u, 1, -1);   // target[1:-1]
        assertArrayEquals(new int[] {1, I, I, I, 5}, u);
        int[] v = {1, 2, 3};
        Preprocessor.fill(v, 2, 1);    // empty
        Preprocessor.fill(v, 7, 9);    // past the end
        assertArrayEquals(new int[] {1, 2, 3}, v);
    }

    @Test
    void pythonStripKnowsUnicodeWhitespace() {
        assertEquals("a b", Preprocessor.pythonStrip("\u00a0\u2007 a b\u202f\u0085\u001c\n"));
        assertEquals("", Preprocessor.pythonStrip(" \t "));
        assertEquals("\u200ba", Preprocessor.pythonStrip("\u200ba"));   // zero-width space is not whitespace
    }

    @Test
    void multimodalMovesAndCollapsesTheImage() {
        List<Turn> out = Preprocessor.multimodal(List.of(Turn.human("  look <image> here <image> "),
                Turn.gpt("no image"), Turn.gpt("<image>")));
        assertEquals("<image>\nlook  here", out.get(0).value());
        assertEquals("no image", out.get(1).value());
        assertEquals("<image>", out.get(2).value());
    }

    @Test
    void promptFollowsGetPrompt() {
        String p = Conversation.VICUNA_V1.prompt(List.of(Turn.gpt("skipped"), Turn.human("q1"), Turn.gpt("a1"),
                Turn.human("q2"), Turn.gpt("")));
        assertEquals(Conversation.VICUNA_V1.system() + " USER: q1 ASSISTANT: a1</s>USER: q2 ASSISTANT:", p);
        assertThrows(IllegalArgumentException.class,
                () -> Conversation.VICUNA_V1.prompt(List.of(Turn.human("a"), Turn.human("b"))));
        assertThrows(IllegalArgumentException.class,
                () -> Conversation.VICUNA_V1.prompt(List.of(new Turn("system", "x"))));
        assertThrows(IllegalArgumentException.class, () -> Conversation.VICUNA_V1.prompt(List.of()));
        assertEquals(Conversation.VICUNA_V1, Conversation.forVersion("v1"));
        assertEquals(Conversation.OSPREY_V1, Conversation.forVersion("osprey_v1"));
    }

    @Test
    void truncationKeepsBosAndTheFirstTokens() {
        Tokenizer tok = OspreyTokens.loadTokenizer(PreprocessParityTest.MODEL, Tokenizer.Mode.FAST);
        Preprocessor p = new Preprocessor(tok, Conversation.VICUNA_V1, 10, false);
        String text = "the red mug stands on the wooden table next to a small vase";
        int[] full = tok.encode(text, true);
        assertTrue(full.length > 10);
        int[] cut = p.encodeTruncated(text);
        assertEquals(10, cut.length);
        assertEquals(tok.bosId(), cut[0]);
        assertArrayEquals(java.util.Arrays.copyOf(full, 10), cut);
        assertArrayEquals(tok.encode("a mug", true), p.encodeTruncated("a mug"));
    }

    @Test
    void modelLabelsIgnoreImageFeaturesAndRegionTokens() {
        int mask = 1000;
        int pos = 1001;
        int[] ids = {1, 10, OspreyTokens.IMAGE_TOKEN_ID, 11, mask, pos, 12, 13};
        int[] labels = {I, 10, I, 11, 70, 71, 12, 13};   // pretend the region tokens were targets
        int[] out = ModelLabels.expand(ids, labels, 3, mask);
        assertArrayEquals(new int[] {I, 10, I, I, I, 11, I, I, 12, 13}, out);
        // Without an image the reference leaves the labels (and the region tokens) alone.
        int[] text = {1, mask, pos, 5};
        int[] textLabels = {I, 3, 4, 5};
        assertArrayEquals(textLabels, ModelLabels.expand(text, textLabels, 3, mask));
        // A <mask> as the very last id: only it is ignored.
        assertArrayEquals(new int[] {I, I, I, I}, ModelLabels.expand(new int[] {OspreyTokens.IMAGE_TOKEN_ID, mask},
                new int[] {I, 9}, 3, mask));
    }

    @Test
    void collatorPadsAndBatchesInOrderOrSeeded() {
        List<TrainingExample> ex = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            int[] ids = new int[i + 1];
            java.util.Arrays.fill(ids, 7 + i);
            ex.add(new TrainingExample("e" + i, ids, ids.clone(), null, List.of(), false));
        }
        Collator c = new Collator(0);
        List<Collator.Batch> plain = c.batches(ex, 2, null);
        assertEquals(3, plain.size());
        assertEquals(List.of("e0", "e1"), plain.get(0).ids());
        assertArrayEquals(new int[] {7, 0}, plain.get(0).inputIds()[0]);
        assertArrayEquals(new int[] {7, I}, plain.get(0).labels()[0]);
        assertEquals(false, plain.get(0).attentionMask()[0][1]);
        assertEquals(1, plain.get(2).size());
        List<Collator.Batch> a = c.batches(ex, 2, 42L);
        List<Collator.Batch> b = c.batches(ex, 2, 42L);
        assertEquals(a.stream().flatMap(x -> x.ids().stream()).toList(),
                b.stream().flatMap(x -> x.ids().stream()).toList());
        assertEquals(5, a.stream().mapToInt(Collator.Batch::size).sum());
    }
}
