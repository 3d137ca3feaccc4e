package osprey4j.eval.bench;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import osprey4j.core.mask.Mask;
import osprey4j.data.samples.TrainingSample;
import osprey4j.eval.runner.EvalRun;

/**
 * The pictures of a report: bar charts (XChart, headless) and worst cases drawn as their image with the region
 * tinted and outlined, 360 pixels wide. A picture that cannot be made (an image format Java cannot decode) is
 * left out with a note, never failing the report.
 */
final class Figures {
    private static final int MAX_WIDTH = 360;

    private Figures() {
    }

    /** One bar chart per entry of {@code series} (name, categories, values), side by side in one PNG. */
    record Bars(String title, String yTitle, List<String> series, List<String> categories,
                List<List<? extends Number>> values) {
    }

    static String chart(Path out, String file, List<Bars> charts) {
        System.setProperty("java.awt.headless", "true");
        List<CategoryChart> built = new ArrayList<>();
        for (Bars b : charts) {
            CategoryChart c = new CategoryChartBuilder().width(720).height(420).title(b.title()).yAxisTitle(b.yTitle())
                    .build();
            c.getStyler().setChartBackgroundColor(Color.WHITE);
            c.getStyler().setXAxisLabelRotation(45);
            c.getStyler().setLegendVisible(b.series().size() > 1);
            List<String> cats = b.categories().isEmpty() ? List.of("(none)") : b.categories();
            for (int i = 0; i < b.series().size(); i++) {
                List<? extends Number> v = b.values().get(i);
                c.addSeries(b.series().get(i), cats, v.isEmpty() ? List.of(0) : v);
            }
            built.add(c);
        }
        try (OutputStream o = Files.newOutputStream(out.resolve(file))) {
            BitmapEncoder.saveBitmap(built, 1, built.size(), o, BitmapEncoder.BitmapFormat.PNG);
            return "![charts](" + file + ")\n\n";
        } catch (IOException | RuntimeException e) {
            return "(charts not drawn: " + e.getMessage() + ")\n\n";
        }
    }

    /**
     * Draws a sample's image with its regions, scaled to 360 pixels wide (enlarged at most 8 times), as
     * {@code worst/NAME.png}; returns the Markdown image reference, or a note.
     */
    static String worstCase(Path out, EvalRun.Result r, String id) {
        TrainingSample s = r.sample(id);
        if (s == null) {
            return "";
        }
        try {
            return worstCase(out, id, Path.of(s.image()), s.regions().isEmpty() ? List.of() : EvalRun.masks(s));
        } catch (RuntimeException e) {
            return "(image not drawn: " + e.getMessage() + ")";
        }
    }

    /**
     * Draws {@code image} with {@code masks} (each the image's size; others are left out) tinted and outlined in
     * turn red, blue, green, as {@code worst/ID.png} with the id's unsafe characters replaced by {@code _}.
     */
    static String worstCase(Path out, String id, Path image, List<Mask> masks) {
        String name = id.replaceAll("[^A-Za-z0-9._-]", "_") + ".png";
        try {
            BufferedImage img = ImageIO.read(image.toFile());
            if (img == null) {
                return "(image not drawn: unreadable " + image + ")";
            }
            double scale = Math.min(8.0, (double) MAX_WIDTH / img.getWidth()); // small images are enlarged
            int w = Math.max(1, (int) Math.round(img.getWidth() * scale));
            int h = Math.max(1, (int) Math.round(img.getHeight() * scale));
            BufferedImage canvas = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = canvas.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(img, 0, 0, w, h, null);
            g.dispose();
            Color[] colours = {new Color(255, 40, 40), new Color(40, 120, 255), new Color(40, 200, 80)};
            for (int m = 0; m < masks.size(); m++) {
                Mask mask = masks.get(m);
                if (mask.width() != img.getWidth() || mask.height() != img.getHeight()) {
                    continue;
                }
                int rgb = colours[m % colours.length].getRGB();
                for (int y = 0; y < h; y++) {
                    int my = Math.min(mask.height() - 1, (int) (y / scale));
                    for (int x = 0; x < w; x++) {
                        int mx = Math.min(mask.width() - 1, (int) (x / scale));
                        if (!mask.get(mx, my)) {
                            continue;
                        }
                        boolean edge = x == 0 || y == 0 || x == w - 1 || y == h - 1
                                || !mask.get(Math.max(0, (int) ((x - 1) / scale)), my)
                                || !mask.get(Math.min(mask.width() - 1, (int) ((x + 1) / scale)), my)
                                || !mask.get(mx, Math.max(0, (int) ((y - 1) / scale)))
                                || !mask.get(mx, Math.min(mask.height() - 1, (int) ((y + 1) / scale)));
                        canvas.setRGB(x, y, edge ? rgb : blend(canvas.getRGB(x, y), rgb));
                    }
                }
            }
            Path dir = Files.createDirectories(out.resolve("worst"));
            ImageIO.write(canvas, "png", dir.resolve(name).toFile());
            return "![" + id + "](worst/" + name + ")";
        } catch (IOException | RuntimeException e) {
            return "(image not drawn: " + e.getMessage() + ")";
        }
    }

    private static int blend(int under, int over) {
        int r = (((under >> 16) & 0xff) + ((over >> 16) & 0xff)) / 2;
        int g = (((under >> 8) & 0xff) + ((over >> 8) & 0xff)) / 2;
        int b = ((under & 0xff) + (over & 0xff)) / 2;
        return (r << 16) | (g << 8) | b;
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

}
