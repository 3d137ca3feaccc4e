package osprey4j.data.instruct;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Small hand-written annotation files in the synthetic world's layout (COCO instances with RLE or polygons,
 * PACO-style parts with obj_ann_id and attributes, COCO captions), plus a PNG whose pixels carry colours the
 * instances file does not name.
 *
 * <p>Image 1 (100 x 80): a red ceramic mug in the top left (parts: a blue handle, a rim), a cup in the bottom right
 * painted green in the PNG (no colour attribute), a plate in the middle. Image 2 (60 x 40): a single dog.
 */
public final class WorldFiles {
    static final ObjectMapper M = new ObjectMapper();

    private WorldFiles() {
    }

    public static Path write(Path dir, int extraImages) throws IOException {
        Files.createDirectories(dir.resolve("images"));
        ObjectNode inst = M.createObjectNode();
        ArrayNode images = inst.putArray("images");
        image(images, 1, "img1.png", 100, 80);
        image(images, 2, "img2.png", 60, 40);
        ArrayNode cats = inst.putArray("categories");
        String[] names = {"mug", "cup", "plate", "dog", "car", "banana", "tree", "bicycle", "bottle", "bowl",
                "wine_glass", "teapot", "elephant", "umbrella"};
        for (int i = 0; i < names.length; i++) {
            cats.addObject().put("id", i + 1).put("name", names[i]);
        }
        ArrayNode attrs = inst.putArray("attributes");
        attrs.addObject().put("id", 1).put("name", "red").put("type", "color");
        attrs.addObject().put("id", 2).put("name", "ceramic").put("type", "material");
        attrs.addObject().put("id", 3).put("name", "blue").put("type", "color");
        ArrayNode anns = inst.putArray("annotations");
        ann(anns, 1, 1, 1, 5, 5, 25, 25).putArray("attribute_ids").add(1).add(2);
        ann(anns, 2, 1, 2, 70, 50, 95, 75);
        ann(anns, 3, 1, 3, 30, 30, 60, 50);
        ann(anns, 4, 2, 4, 10, 10, 50, 30);
        for (int k = 0; k < extraImages; k++) {
            long id = 100 + k;
            image(images, id, "extra" + k + ".png", 64, 48);
            ann(anns, 1000 + 2 * id, id, 1 + (k % 13), 4, 4, 30, 30);
            ann(anns, 1001 + 2 * id, id, 2 + (k % 12), 34, 10, 60, 44);
        }
        M.writeValue(dir.resolve("instances.json").toFile(), inst);

        ObjectNode parts = M.createObjectNode();
        ArrayNode pimages = parts.putArray("images");
        image(pimages, 1, "img1.png", 100, 80);
        ArrayNode pcats = parts.putArray("categories");
        pcats.addObject().put("id", 101).put("name", "mug:handle");
        pcats.addObject().put("id", 102).put("name", "mug:rim");
        parts.set("attributes", attrs.deepCopy());
        ArrayNode panns = parts.putArray("annotations");
        ann(panns, 11, 1, 101, 22, 10, 25, 18).put("obj_ann_id", 1).putArray("attribute_ids").add(3);
        ann(panns, 12, 1, 102, 5, 5, 25, 7).put("obj_ann_id", 1);
        M.writeValue(dir.resolve("parts.json").toFile(), parts);

        ObjectNode caps = M.createObjectNode();
        ArrayNode cimages = caps.putArray("images");
        image(cimages, 1, "img1.png", 100, 80);
        ArrayNode canns = caps.putArray("annotations");
        canns.addObject().put("id", 1).put("image_id", 1).put("caption", "A red mug and a cup next to a plate.");
        canns.addObject().put("id", 2).put("image_id", 1).put("caption", "Tableware on a white table.");
        M.writeValue(dir.resolve("captions.json").toFile(), caps);

        BufferedImage png = new BufferedImage(100, 80, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = png.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 100, 80);
        g.setColor(new Color(40, 170, 50));   // the cup
        g.fillRect(70, 50, 25, 25);
        g.dispose();
        ImageIO.write(png, "png", dir.resolve("images/img1.png").toFile());
        return dir;
    }

    private static void image(ArrayNode images, long id, String name, int w, int h) {
        images.addObject().put("id", id).put("file_name", name).put("width", w).put("height", h);
    }

    /** A rectangle [x1, x2) x [y1, y2) as a polygon. */
    private static ObjectNode ann(ArrayNode anns, long id, long image, long cat, int x1, int y1, int x2, int y2) {
        ObjectNode a = anns.addObject().put("id", id).put("image_id", image).put("category_id", cat);
        a.putArray("segmentation").addArray().add(x1).add(y1).add(x2).add(y1).add(x2).add(y2).add(x1).add(y2);
        a.putArray("bbox").add(x1).add(y1).add(x2 - x1).add(y2 - y1);
        a.put("area", (x2 - x1) * (y2 - y1)).put("iscrowd", 0);
        return a;
    }
}
