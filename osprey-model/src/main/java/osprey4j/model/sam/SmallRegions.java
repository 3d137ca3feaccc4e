package osprey4j.model.sam;

import java.util.ArrayList;
import java.util.List;
import osprey4j.core.mask.Mask;

/**
 * The automatic mask generator's {@code remove_small_regions}: 8-connected components (labelled in raster order of
 * their first pixel, as OpenCV's {@code connectedComponentsWithStats} numbers them) of the mask's background
 * ("holes") or foreground ("islands"); holes smaller than the area are filled, islands smaller than it removed
 * (the largest is kept when every island is small).
 */
final class SmallRegions {
    private SmallRegions() {
    }

    record Result(Mask mask, boolean changed) {
    }

    static Result remove(Mask mask, int minArea, boolean holes) {
        int w = mask.width(), h = mask.height();
        int[] labels = new int[w * h];
        List<Integer> sizes = new ArrayList<>();
        sizes.add(0);
        int[] stack = new int[w * h];
        for (int start = 0; start < w * h; start++) {
            if (labels[start] != 0 || mask.get(start % w, start / w) == holes) {
                continue;
            }
            int label = sizes.size();
            int size = 0, top = 0;
            stack[top++] = start;
            labels[start] = label;
            while (top > 0) {
                int p = stack[--top];
                size++;
                int px = p % w, py = p / w;
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int x = px + dx, y = py + dy;
                        if (x < 0 || y < 0 || x >= w || y >= h) {
                            continue;
                        }
                        int q = y * w + x;
                        if (labels[q] == 0 && mask.get(x, y) != holes) {
                            labels[q] = label;
                            stack[top++] = q;
                        }
                    }
                }
            }
            sizes.add(size);
        }
        boolean[] small = new boolean[sizes.size()];
        boolean any = false;
        for (int l = 1; l < sizes.size(); l++) {
            small[l] = sizes.get(l) < minArea;
            any |= small[l];
        }
        if (!any) {
            return new Result(mask, false);
        }
        boolean[] keep = new boolean[sizes.size()];
        if (holes) {
            keep[0] = true;
            for (int l = 1; l < sizes.size(); l++) {
                keep[l] = small[l];
            }
        } else {
            boolean anyKept = false;
            for (int l = 1; l < sizes.size(); l++) {
                keep[l] = !small[l];
                anyKept |= keep[l];
            }
            if (!anyKept) {
                int largest = 1;
                for (int l = 2; l < sizes.size(); l++) {
                    if (sizes.get(l) > sizes.get(largest)) {
                        largest = l;
                    }
                }
                keep[largest] = true;
            }
        }
        return new Result(Mask.fromPredicate(w, h, (x, y) -> keep[labels[y * w + x]]), true);
    }
}
