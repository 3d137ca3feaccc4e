package osprey4j.app.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import osprey4j.app.serve.ServeFixtures.Client;
import osprey4j.app.serve.ServeFixtures.Client.Reply;
import osprey4j.core.mask.Mask;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.model.GenerationOptions;
import osprey4j.model.image.RgbImage;
import osprey4j.service.AskRequest;
import osprey4j.service.Segmenter;

/**
 * The segmentation capability plugged into the server: points and boxes go through it, "everything" lists its
 * masks, and the image is prepared once. The segmenter here is a geometric stand-in with a known answer (a disc of
 * radius 12 around each positive point, less one around each negative point; a box's inscribed ellipse), so the
 * server's wiring is tested without a SAM checkpoint.
 */
class ServeSegmenterTest {
    static final class Discs implements Segmenter {
        final AtomicInteger prepared = new AtomicInteger();

        @Override
        public String name() {
            return "discs";
        }

        @Override
        public Prepared prepare(RgbImage image) {
            prepared.incrementAndGet();
            int w = image.width(), h = image.height();
            return new Size(w, h);
        }

        record Size(int w, int h) implements Prepared {
            @Override
            public long byteSize() {
                return 16;
            }
        }

        @Override
        public Mask segment(Prepared image, Prompt prompt) {
            Size s = (Size) image;
            return Mask.fromPredicate(s.w, s.h, (x, y) -> inside(prompt, x, y));
        }

        static boolean inside(Prompt p, int x, int y) {
            boolean in = false;
            if (p.box() != null) {
                double cx = (p.box()[0] + p.box()[2]) / 2, cy = (p.box()[1] + p.box()[3]) / 2;
                double rx = (p.box()[2] - p.box()[0]) / 2, ry = (p.box()[3] - p.box()[1]) / 2;
                in = (x - cx) * (x - cx) / (rx * rx) + (y - cy) * (y - cy) / (ry * ry) <= 1;
            }
            for (Point q : p.points()) {
                boolean near = (x - q.x()) * (x - q.x()) + (y - q.y()) * (y - q.y()) <= 144;
                if (near) {
                    in = q.positive();
                }
            }
            return in;
        }

        @Override
        public List<Mask> everything(Prepared image) {
            return List.of(segment(image, new Prompt(List.of(new Point(30, 30, true)), null)),
                    segment(image, new Prompt(List.of(), new double[] {60, 60, 120, 100})));
        }
    }

    /**
     * SAM itself as the server's segmenter (a small random-weight SAM of the official layout): a click through
     * {@code /v1/segment} gives exactly the mask the segment use case gives for the same click.
     */
    @Test
    void samIsTheServersSegmenter() throws Exception {
        osprey4j.model.sam.RandomSam.Shape tiny = new osprey4j.model.sam.RandomSam.Shape(32, 2, 2, new int[] {1}, 4, 16,
                1024, 256, 16, 2, 256, 64);
        try (osprey4j.core.io.Checkpoint ckpt = osprey4j.model.sam.RandomSam.checkpoint(tiny,
                osprey4j.core.tensor.DType.F32, 3);
             osprey4j.service.SegmentService sam = osprey4j.service.SegmentService.of(
                     osprey4j.model.sam.Sam.load(ckpt, 8));
             OspreyServer server = OspreyServer.start(ServeFixtures.service(),
                     new osprey4j.service.SamSegmenter(sam, "tiny-sam"), ServerConfig.defaults("demo").withPort(0))) {
            Client client = new Client(server.uri());
            String id = client.upload(ServeFixtures.sceneBytes());
            ObjectNode body = ServeFixtures.JSON.createObjectNode().put("image", id);
            ObjectNode prompt = body.putArray("prompts").addObject();
            prompt.putArray("points").add(ServeFixtures.JSON.createArrayNode().add(40).add(52));
            prompt.putArray("labels").add(1);
            Reply r = client.post("/v1/segment", body);
            assertEquals(200, r.status(), r.body());
            assertEquals("tiny-sam", r.json().path("segmenter").asText());
            Mask got = CocoMasks.decode(SegmentationJson.read(r.json().path("masks").get(0).path("segmentation")));
            Mask expected = sam.segment(RgbImage.read(ServeFixtures.SCENE), new osprey4j.service.SegmentRequest(null,
                    List.of(new osprey4j.model.sam.SamPrompt.Point(40, 52, 1)), null, false)).bestMask().segmentation();
            assertEquals(expected, got);
            assertEquals(128, got.width());
        }
    }

    @Test
    void pointsBoxesAndEverythingGoThroughThePluggedSegmenter() throws Exception {
        Discs discs = new Discs();
        try (OspreyServer server = OspreyServer.start(ServeFixtures.service(), discs,
                ServerConfig.defaults("demo").withPort(0))) {
            Client client = new Client(server.uri());
            assertTrue(client.get("/health").json().path("segment").asBoolean());
            assertEquals("discs", client.get("/v1/models").json().path("data").get(0).path("segment").asText());
            String id = client.upload(ServeFixtures.sceneBytes());

            ObjectNode body = ServeFixtures.JSON.createObjectNode().put("image", id);
            ObjectNode prompt = body.putArray("prompts").addObject();
            prompt.putArray("points").add(ServeFixtures.JSON.createArrayNode().add(40).add(40))
                    .add(ServeFixtures.JSON.createArrayNode().add(48).add(40));
            prompt.putArray("labels").add(1).add(0);
            Reply r = client.post("/v1/segment", body);
            assertEquals(200, r.status(), r.body());
            assertEquals("discs", r.json().path("segmenter").asText());
            Mask expected = discs.segment(new Discs.Size(128, 128), new Segmenter.Prompt(List.of(
                    new Segmenter.Point(40, 40, true), new Segmenter.Point(48, 40, false)), null));
            Mask got = CocoMasks.decode(SegmentationJson.read(r.json().path("masks").get(0).path("segmentation")));
            assertEquals(expected, got);

            // A box in a question is the segmenter's mask, not a rectangle.
            ObjectNode chat = ServeFixtures.chat(id, "What is <region1>?").put("temperature", 0)
                    .put("max_tokens", 16);
            ServeFixtures.box(chat.putArray("regions"), 20, 20, 100, 80);
            Reply answer = client.post("/v1/chat/completions", chat);
            assertEquals(200, answer.status(), answer.body());
            Mask ellipse = discs.segment(new Discs.Size(128, 128), new Segmenter.Prompt(List.of(),
                    new double[] {20, 20, 100, 80}));
            String expectedText = ServeFixtures.service().ask(RgbImage.read(ServeFixtures.SCENE), new AskRequest(
                    "scene", List.of(ellipse), "What is <region1>?", GenerationOptions.greedy(16)), null, null).text();
            assertEquals(expectedText, answer.json().path("choices").get(0).path("message").path("content").asText());

            ObjectNode everything = ServeFixtures.JSON.createObjectNode().put("image", id).put("everything", true);
            JsonNode all = client.post("/v1/segment", everything).json();
            assertEquals(2, all.path("masks").size());
            JsonNode described = client.post("/v1/describe", everything.put("max_tokens", 8)).json();
            assertEquals(2, described.path("regions").size(), described.toString());
            assertEquals(1, discs.prepared.get(), "the image was prepared once for all of it");
        }
    }
}
