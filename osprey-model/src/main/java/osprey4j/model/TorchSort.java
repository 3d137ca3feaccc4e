package osprey4j.model;

/**
 * The order in which {@code torch.sort(x, descending=False)} (torch 1.13, CPU, {@code stable=False}) puts equal
 * values. Its kernel runs {@code std::sort} from libstdc++ over (value, index) pairs comparing values only, so
 * ties come out in introsort's order: insertion-sort-stable for up to 16 elements, shuffled beyond. Top-p
 * sampling cuts the sorted list at a cumulative probability, so with tied logits (common in bf16) this order
 * decides which of the tied tokens survive.
 *
 * <p>This is libstdc++'s algorithm step by step: introsort loop (median-of-three pivot moved to the front,
 * unguarded Hoare partition, recursion on the right part, depth limit 2 floor(log2 n) then heapsort), then the
 * final insertion sort (guarded on the first 16, unguarded after). The comparator is torch's
 * {@code KeyValueCompAsc}: {@code (!isnan(a) && isnan(b)) || a < b}.
 */
final class TorchSort {
    private static final int THRESHOLD = 16;

    private final float[] keys;
    private final int[] idx;

    private TorchSort(float[] values) {
        this.keys = values.clone();
        this.idx = new int[values.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
    }

    /** The indices of {@code values} in torch's ascending sort order. */
    static int[] argsortAscending(float[] values) {
        TorchSort s = new TorchSort(values);
        int n = values.length;
        if (n > 1) {
            s.introsortLoop(0, n, 2 * (31 - Integer.numberOfLeadingZeros(n)));
            s.finalInsertionSort(0, n);
        }
        return s.idx;
    }

    private static boolean less(float a, float b) {
        return (!Float.isNaN(a) && Float.isNaN(b)) || a < b;
    }

    private boolean less(int i, int j) {
        return less(keys[i], keys[j]);
    }

    private void swap(int i, int j) {
        float k = keys[i];
        keys[i] = keys[j];
        keys[j] = k;
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }

    private void introsortLoop(int first, int last, int depthLimit) {
        while (last - first > THRESHOLD) {
            if (depthLimit == 0) {
                heapSort(first, last);
                return;
            }
            depthLimit--;
            int cut = partitionPivot(first, last);
            introsortLoop(cut, last, depthLimit);
            last = cut;
        }
    }

    private int partitionPivot(int first, int last) {
        int mid = first + (last - first) / 2;
        moveMedianToFirst(first, first + 1, mid, last - 1);
        return unguardedPartition(first + 1, last, first);
    }

    private void moveMedianToFirst(int result, int a, int b, int c) {
        if (less(a, b)) {
            if (less(b, c)) {
                swap(result, b);
            } else if (less(a, c)) {
                swap(result, c);
            } else {
                swap(result, a);
            }
        } else if (less(a, c)) {
            swap(result, a);
        } else if (less(b, c)) {
            swap(result, c);
        } else {
            swap(result, b);
        }
    }

    private int unguardedPartition(int first, int last, int pivot) {
        while (true) {
            while (less(first, pivot)) {
                first++;
            }
            last--;
            while (less(pivot, last)) {
                last--;
            }
            if (first >= last) {
                return first;
            }
            swap(first, last);
            first++;
        }
    }

    private void finalInsertionSort(int first, int last) {
        if (last - first > THRESHOLD) {
            insertionSort(first, first + THRESHOLD);
            for (int i = first + THRESHOLD; i < last; i++) {
                unguardedLinearInsert(i);
            }
        } else {
            insertionSort(first, last);
        }
    }

    private void insertionSort(int first, int last) {
        for (int i = first + 1; i < last; i++) {
            if (less(i, first)) {
                // move_backward [first, i) one step, the element to the front
                float k = keys[i];
                int v = idx[i];
                System.arraycopy(keys, first, keys, first + 1, i - first);
                System.arraycopy(idx, first, idx, first + 1, i - first);
                keys[first] = k;
                idx[first] = v;
            } else {
                unguardedLinearInsert(i);
            }
        }
    }

    private void unguardedLinearInsert(int last) {
        float k = keys[last];
        int v = idx[last];
        int next = last - 1;
        while (less(k, keys[next])) {
            keys[last] = keys[next];
            idx[last] = idx[next];
            last = next;
            next--;
        }
        keys[last] = k;
        idx[last] = v;
    }

    // --- std::partial_sort(first, last, last): make_heap, then sort_heap ---

    private void heapSort(int first, int last) {
        int len = last - first;
        if (len >= 2) {
            for (int parent = (len - 2) / 2; ; parent--) {
                adjustHeap(first, parent, len, keys[first + parent], idx[first + parent]);
                if (parent == 0) {
                    break;
                }
            }
        }
        while (last - first > 1) {
            last--;
            // pop_heap(first, last, last): the top goes to last, the old last value sifts in from the root
            float k = keys[last];
            int v = idx[last];
            keys[last] = keys[first];
            idx[last] = idx[first];
            adjustHeap(first, 0, last - first, k, v);
        }
    }

    private void adjustHeap(int first, int hole, int len, float key, int value) {
        int top = hole;
        int child = hole;
        while (child < (len - 1) / 2) {
            child = 2 * (child + 1);
            if (less(first + child, first + child - 1)) {
                child--;
            }
            keys[first + hole] = keys[first + child];
            idx[first + hole] = idx[first + child];
            hole = child;
        }
        if ((len & 1) == 0 && child == (len - 2) / 2) {
            child = 2 * (child + 1);
            keys[first + hole] = keys[first + child - 1];
            idx[first + hole] = idx[first + child - 1];
            hole = child - 1;
        }
        // push_heap
        int parent = (hole - 1) / 2;
        while (hole > top && less(keys[first + parent], key)) {
            keys[first + hole] = keys[first + parent];
            idx[first + hole] = idx[first + parent];
            hole = parent;
            parent = (hole - 1) / 2;
        }
        keys[first + hole] = key;
        idx[first + hole] = value;
    }
}
