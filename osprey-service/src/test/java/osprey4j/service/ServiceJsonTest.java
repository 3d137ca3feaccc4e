package osprey4j.service;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import osprey4j.core.mask.Mask;
import osprey4j.model.GenerationOptions;

/** Requests and results survive a trip through JSON, with the field names the CLI prints. */
class ServiceJsonTest {
    static final ObjectMapper JSON = ServiceJson.mapper();

    static Mask ring() {
        return Mask.fromPredicate(7, 5, (x, y) -> (x - 3) * (x - 3) + (y - 2) * (y - 2) <= 4 && (x + y) % 3 != 0);
    }

    static <T> T roundTrip(T value, Class<T> type) throws Exception {
        String text = JSON.writeValueAsString(value);
        T back = JSON.readValue(text, type);
        assertEquals(text, JSON.writeValueAsString(back), "written again the same");
        return back;
    }

    @Test
    void askRequestAndResult() throws Exception {
        AskRequest request = new AskRequest("photo.jpg", List.of(ring(), Mask.full(7, 5)),
                "Is <region2> left of <region1>?", new GenerationOptions(false, 0.7f, 0.9f, 40, 12345L, 64));
        AskRequest back = roundTrip(request, AskRequest.class);
        assertEquals(request, back); // masks compare by pixels, options by value

        JsonNode tree = JSON.valueToTree(request);
        assertEquals("[5,7]", tree.path("regions").path(0).path("size").toString(),
                "a region is a COCO RLE, size [height, width]");
        assertTrue(tree.path("regions").path(0).path("counts").isTextual());

        AskResult result = new AskResult("a cat", new int[] {319, 6635, 2}, 1060,
                new Timings(812.5, 3.25, 410.0, 1049, 95.5, 3, 20.94));
        AskResult r = roundTrip(result, AskResult.class);
        assertEquals(result.text(), r.text());
        assertArrayEquals(result.tokens(), r.tokens());
        assertEquals(result.promptTokens(), r.promptTokens());
        assertEquals(result.timings(), r.timings());
        List<String> fields = List.copyOf(iterable(JSON.valueToTree(result).fieldNames()));
        assertEquals(List.of("text", "tokens", "prompt_tokens", "timings"), fields);
        assertEquals(List.of("encode_ms", "regions_ms", "prefill_ms", "reused_prompt_tokens", "decode_ms",
                "generated_tokens", "decode_tokens_per_s"),
                List.copyOf(iterable(JSON.valueToTree(result.timings()).fieldNames())));
    }

    @Test
    void describeRequestAndResult() throws Exception {
        DescribeRequest request = new DescribeRequest("photo.jpg", List.of(new DescribeRequest.Region(41, ring()),
                new DescribeRequest.Region(42, Mask.empty(7, 5))), DescribeRequest.Detail.DETAILED,
                GenerationOptions.greedy(20));
        assertEquals(request, roundTrip(request, DescribeRequest.class));
        DescribeRequest defaults = JSON.readValue("{\"image\": \"x.png\", \"regions\": []}", DescribeRequest.class);
        assertEquals(DescribeRequest.Detail.SHORT, defaults.detail());
        assertEquals(GenerationOptions.reference(), defaults.options());

        RegionDescription line = new RegionDescription(41, new double[] {1, 2, 3, 4}, 6, "q", "a", new int[] {5, 2}, 33);
        DescribeResult result = roundTrip(new DescribeResult(List.of(line), 12.5), DescribeResult.class);
        RegionDescription back = result.regions().getFirst();
        assertArrayEquals(line.bbox(), back.bbox());
        assertArrayEquals(line.tokens(), back.tokens());
        // a describe output line: these fields, in this order
        assertEquals(List.of("id", "bbox", "area", "question", "answer", "tokens", "prompt_tokens"),
                List.copyOf(iterable(JSON.valueToTree(line).fieldNames())));
    }

    @Test
    void inspectRequestAndResult() throws Exception {
        InspectRequest request = new InspectRequest("photo.jpg", List.of(ring()), List.of("ring.png"),
                "What is <region1>?", "out.safetensors");
        assertEquals(request, roundTrip(request, InspectRequest.class));
        Map<String, InspectResult.TensorInfo> tensors = new LinkedHashMap<>();
        tensors.put("res4", new InspectResult.TensorInfo("F32", List.of(768L, 32L, 32L)));
        tensors.put("input_ids", new InspectResult.TensorInfo("I64", List.of(60L)));
        InspectResult result = new InspectResult("out.safetensors", tensors, "prompt");
        InspectResult back = roundTrip(result, InspectResult.class);
        assertEquals(result, back);
        assertEquals(List.of("res4", "input_ids"), List.copyOf(back.tensors().keySet()));
    }

    @Test
    void badRequestsAreRefusedWhenRead() {
        var e = assertThrows(JsonMappingException.class, () -> JSON.readValue(
                "{\"image\": \"x.png\", \"regions\": [[[0, 0, 4, 0, 4, 4]]], \"question\": \"<region1>?\"}",
                AskRequest.class));
        assertTrue(e.getMessage().contains("not polygons"), e.getMessage());
        e = assertThrows(JsonMappingException.class, () -> JSON.readValue(
                "{\"image\": \"x.png\", \"regions\": [], \"question\": \"What is <region1>?\"}", AskRequest.class));
        assertTrue(e.getMessage().contains("<region1>"), e.getMessage());
    }

    private static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
