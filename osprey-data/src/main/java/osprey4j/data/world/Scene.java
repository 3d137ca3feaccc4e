package osprey4j.data.world;

import java.util.List;

/** A scene before rasterisation: a background and objects ordered far to near (the painting order). */
record Scene(int width, int height, Background background, List<WorldObject> objects) {
    Scene {
        objects = List.copyOf(objects);
    }

    Scene withObjects(List<WorldObject> kept) {
        return new Scene(width, height, background, kept);
    }
}
