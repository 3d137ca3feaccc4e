package osprey4j.service;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Every region's description, in the request's order.
 *
 * @param regions  one description per region
 * @param encodeMs how long encoding the image took (once for all regions)
 */
public record DescribeResult(List<RegionDescription> regions, @JsonProperty("encode_ms") double encodeMs) {
    public DescribeResult {
        regions = List.copyOf(regions);
    }
}
