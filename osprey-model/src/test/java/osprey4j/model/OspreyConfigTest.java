package osprey4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OspreyConfigTest {
    @Test
    void readsTheParityConfig() {
        OspreyConfig c = OspreyConfig.read(FacadeFixtures.modelDir());
        assertEquals("clip_vision_tower.bin", c.visionTower());
        assertEquals("mlp2x_gelu", c.projectorType());
        assertEquals(512, c.imageSize());
        assertEquals(2, c.eosId());
    }

    @Test
    void findsABareClipFileNameInTheModelDirectory() {
        // The reference torch.loads the name relative to the working directory; the tests do not run there.
        Path dir = FacadeFixtures.modelDir();
        assertEquals(dir.resolve("clip_vision_tower.bin").toAbsolutePath().normalize(),
                OspreyConfig.read(dir).findVisionTowerFile(dir).orElseThrow());
    }

    @Test
    void findsAnAbsoluteOrNestedPathAndReportsWhereItLooked(@TempDir Path tmp) throws IOException {
        Path model = Files.createDirectories(tmp.resolve("model"));
        Path clip = Files.createDirectories(tmp.resolve("elsewhere")).resolve("open_clip_pytorch_model.bin");
        Files.writeString(clip, "x");
        Files.writeString(model.resolve("config.json"), "{\"mm_vision_tower\": \"" + clip + "\"}");
        assertEquals(clip, OspreyConfig.read(model).findVisionTowerFile(model).orElseThrow());

        Files.writeString(model.resolve("config.json"), "{\"mm_vision_tower\": \"./weights/clip.bin\"}");
        assertTrue(OspreyConfig.read(model).findVisionTowerFile(model).isEmpty());
        Files.createDirectories(model.resolve("weights"));
        Files.writeString(model.resolve("weights/clip.bin"), "x");
        assertEquals(model.resolve("weights/clip.bin").toAbsolutePath().normalize(),
                OspreyConfig.read(model).findVisionTowerFile(model).orElseThrow());
        assertEquals("linear", OspreyConfig.read(model).projectorType());
        assertEquals(-1, OspreyConfig.read(model).eosId());
    }

    @Test
    void missingConfigNamesTheDirectory(@TempDir Path tmp) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OspreyConfig.read(tmp));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }
}
