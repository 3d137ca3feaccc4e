package osprey4j.model.tokenizer;

import java.util.Arrays;

/** A growable list of ints, so token id sequences do not box every id. */
final class IntList {
    private int[] items;
    private int size;

    IntList() {
        this(16);
    }

    IntList(int capacity) {
        items = new int[Math.max(capacity, 4)];
    }

    void add(int v) {
        if (size == items.length) {
            items = Arrays.copyOf(items, size * 2);
        }
        items[size++] = v;
    }

    void addAll(int[] vs) {
        for (int v : vs) {
            add(v);
        }
    }

    int get(int i) {
        if (i >= size) {
            throw new IndexOutOfBoundsException(i);
        }
        return items[i];
    }

    int size() {
        return size;
    }

    void removeFirst() {
        System.arraycopy(items, 1, items, 0, --size);
    }

    int[] toArray() {
        return Arrays.copyOf(items, size);
    }
}
