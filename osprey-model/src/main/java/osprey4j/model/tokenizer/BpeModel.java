package osprey4j.model.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Byte-pair encoding of one already-normalised word, the way both Hugging Face's {@code tokenizers} BPE model and
 * SentencePiece's BPE model do it: start from single characters (a character missing from the vocabulary becomes
 * its UTF-8 bytes as {@code <0xNN>} tokens when byte fallback is on, else the unknown token), then repeatedly
 * apply the best-ranked merge among adjacent pairs, leftmost first among equals.
 *
 * <p>The two libraries differ only in what "best-ranked" means, which the caller decides when it builds the
 * ranks: Hugging Face ranks a pair by its position in the merges list, SentencePiece by the score of the
 * merged piece (so every pair producing the same piece ranks the same).
 */
final class BpeModel {
    private final String[] pieces;
    private final Map<String, Integer> ids;
    /** (left id, right id) packed into a long -> (rank, merged id) packed into a long. */
    private final Map<Long, Long> merges;
    private final int[] byteIds = new int[256];
    private final boolean byteFallback;
    private final int unkId;
    private final boolean fuseUnk;

    /** A merge of two pieces; lower rank merges first. */
    record Merge(String left, String right, int rank) {
    }

    BpeModel(String[] pieces, List<Merge> mergeList, boolean byteFallback, int unkId, boolean fuseUnk) {
        this.pieces = pieces.clone();
        this.ids = new HashMap<>(pieces.length * 2);
        for (int i = 0; i < pieces.length; i++) {
            ids.putIfAbsent(pieces[i], i);
        }
        this.merges = new HashMap<>(mergeList.size() * 2);
        for (Merge m : mergeList) {
            Integer l = ids.get(m.left());
            Integer r = ids.get(m.right());
            Integer merged = ids.get(m.left() + m.right());
            if (l == null || r == null || merged == null) {
                throw new IllegalArgumentException("merge '" + m.left() + " " + m.right()
                        + "' uses a piece that is not in the vocabulary");
            }
            // A pair listed twice keeps its last rank, as the Rust BPE's merge map does.
            merges.put(pair(l, r), (long) m.rank() << 32 | merged);
        }
        java.util.Arrays.fill(byteIds, -1);
        for (int b = 0; b < 256; b++) {
            Integer id = ids.get(bytePiece(b));
            if (id != null) {
                byteIds[b] = id;
            }
        }
        this.byteFallback = byteFallback;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
    }

    /** The piece naming one byte in byte-fallback vocabularies: {@code <0x0A>}. */
    static String bytePiece(int b) {
        return String.format("<0x%02X>", b);
    }

    /** The byte a {@code <0xNN>} piece stands for, or -1 if the piece is not of that form. */
    static int byteOf(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(piece.charAt(3), 16);
        int lo = Character.digit(piece.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    int size() {
        return pieces.length;
    }

    String piece(int id) {
        return pieces[id];
    }

    Integer id(String piece) {
        return ids.get(piece);
    }

    int unkId() {
        return unkId;
    }

    /** Appends the ids of {@code word} to {@code out}. */
    void encode(String word, IntList out) {
        if (word.isEmpty()) {
            return;
        }
        // Symbols as a doubly linked list over arrays; a merged-away symbol gets id -1.
        int capacity = word.length() * 4;
        int[] sym = new int[capacity];
        int n = 0;
        // An unknown character waits as a pending <unk> (fused with following unknown ones when fuse_unk) until
        // a character of the vocabulary or the end of the word comes; characters spelled with byte fallback
        // in between are added before it. This is the Rust BPE's order.
        boolean unkPending = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int next = i + Character.charCount(cp);
            String ch = word.substring(i, next);
            i = next;
            Integer id = ids.get(ch);
            if (id != null) {
                if (unkPending) {
                    sym[n++] = unkId;
                    unkPending = false;
                }
                sym[n++] = id;
            } else if (byteFallback && allBytesKnown(ch)) {
                for (byte b : ch.getBytes(StandardCharsets.UTF_8)) {
                    sym[n++] = byteIds[b & 0xff];
                }
            } else if (unkId >= 0) {
                if (unkPending && !fuseUnk) {
                    sym[n++] = unkId;
                }
                unkPending = true;
            }
        }
        if (unkPending) {
            sym[n++] = unkId;
        }
        int[] prev = new int[n];
        int[] nxt = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            nxt[i] = i + 1 < n ? i + 1 : -1;
        }
        // Candidates ordered by rank, then by position; stale entries are skipped when popped.
        PriorityQueue<long[]> agenda = new PriorityQueue<>((a, b) -> a[0] != b[0]
                ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        for (int i = 0; i + 1 < n; i++) {
            offer(agenda, sym, i, i + 1);
        }
        while (!agenda.isEmpty()) {
            long[] top = agenda.poll();
            int left = (int) top[1];
            int right = nxt[left];
            if (sym[left] != (int) top[2] || right < 0 || sym[right] != (int) top[3]) {
                continue;
            }
            sym[left] = (int) top[4];
            sym[right] = -1;
            nxt[left] = nxt[right];
            if (nxt[right] >= 0) {
                prev[nxt[right]] = left;
            }
            if (prev[left] >= 0) {
                offer(agenda, sym, prev[left], left);
            }
            if (nxt[left] >= 0) {
                offer(agenda, sym, left, nxt[left]);
            }
        }
        for (int i = 0; i >= 0 && n > 0; i = nxt[i]) {
            out.add(sym[i]);
        }
    }

    private void offer(PriorityQueue<long[]> agenda, int[] sym, int left, int right) {
        Long m = merges.get(pair(sym[left], sym[right]));
        if (m != null) {
            agenda.add(new long[] {m >>> 32, left, sym[left], sym[right], m & 0xffffffffL});
        }
    }

    private boolean allBytesKnown(String ch) {
        for (byte b : ch.getBytes(StandardCharsets.UTF_8)) {
            if (byteIds[b & 0xff] < 0) {
                return false;
            }
        }
        return true;
    }

    private static long pair(int left, int right) {
        return (long) left << 32 | (right & 0xffffffffL);
    }
}
