package osprey4j.service;

import java.util.List;
import java.util.Map;

/**
 * What {@link OspreyService#inspect} wrote.
 *
 * @param dump    the safetensors file
 * @param tensors each tensor's dtype and shape, in the file's order
 * @param prompt  the prompt text the model was given
 */
public record InspectResult(String dump, Map<String, TensorInfo> tensors, String prompt) {
    /** A tensor's element type (as {@code osprey4j.core.tensor.DType} names it) and shape. */
    public record TensorInfo(String dtype, List<Long> shape) {
    }
}
