package osprey4j.data.instruct;

import osprey4j.data.datasets.CocoImage;

import java.util.List;

/** One image with its objects (parts attached to their objects) and its captions. */
public record Scene(CocoImage image, List<SceneObject> objects, List<String> captions) {
    public Scene {
        objects = List.copyOf(objects);
        captions = List.copyOf(captions);
    }

    public int width() {
        return image.width();
    }

    public int height() {
        return image.height();
    }
}
