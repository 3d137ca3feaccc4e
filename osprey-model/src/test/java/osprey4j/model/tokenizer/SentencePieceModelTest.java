package osprey4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SentencePieceModelTest {
    private static byte[] fixtureBytes() throws IOException {
        return Files.readAllBytes(TokenizerFixtures.dir().resolve("tokenizer.model"));
    }

    @Test
    void readsPiecesAndSpecsOfTheFixtureModel() throws IOException {
        SentencePieceModel m = SentencePieceModel.parse(fixtureBytes());
        // Values as Python's sentencepiece reports them for this file (and as it was trained, see the README).
        assertEquals(1500, m.pieces().size());
        assertEquals(SentencePieceModel.ModelType.BPE, m.modelType());
        assertTrue(m.byteFallback());
        assertEquals(0, m.unkId());
        assertEquals(1, m.bosId());
        assertEquals(2, m.eosId());
        assertEquals(-1, m.padId());
        assertTrue(m.addDummyPrefix());
        assertFalse(m.removeExtraWhitespaces());
        assertEquals("identity", m.normalizerName());
        assertEquals(new SentencePieceModel.Piece("<unk>", 0f, SentencePieceModel.PieceType.UNKNOWN), m.pieces().get(0));
        assertEquals(new SentencePieceModel.Piece("<s>", 0f, SentencePieceModel.PieceType.CONTROL), m.pieces().get(1));
        assertEquals(new SentencePieceModel.Piece("<0x0A>", 0f, SentencePieceModel.PieceType.BYTE), m.pieces().get(13));
        assertEquals("re", m.pieces().get(260).piece());
        assertEquals(-1f, m.pieces().get(260).score());
        assertEquals(SentencePieceModel.PieceType.NORMAL, m.pieces().get(260).type());
    }

    @Test
    void truncatedOrCorruptFilesFailWithAMessage() throws IOException {
        byte[] bytes = fixtureBytes();
        for (int cut : new int[] {1, 7, 100, bytes.length / 2, bytes.length - 3}) {
            byte[] truncated = Arrays.copyOf(bytes, cut);
            // Either a clear error or (if the cut falls between fields) a shorter model; never an exception
            // of another kind.
            try {
                SentencePieceModel.parse(truncated);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().startsWith("malformed SentencePiece model"), e.getMessage());
            }
        }
        // A length prefix far larger than the file.
        byte[] hostile = {0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x7f, 1, 2, 3};
        var e = assertThrows(IllegalArgumentException.class, () -> SentencePieceModel.parse(hostile));
        assertTrue(e.getMessage().contains("declares"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SentencePieceModel.parse(new byte[0]));
    }
}
