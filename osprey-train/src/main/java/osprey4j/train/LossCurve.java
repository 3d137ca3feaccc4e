package osprey4j.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The loss-per-step PNG of a training run (XChart): each step's loss and a moving average over 1% of the run. */
public final class LossCurve {
    private LossCurve() {
    }

    /** Writes {@code file} (replaced atomically) from the losses of steps 1..n. */
    public static void write(Path file, List<Double> losses) throws IOException {
        if (losses.isEmpty()) {
            return;
        }
        int n = losses.size();
        double[] x = new double[n];
        double[] y = new double[n];
        double[] avg = new double[n];
        int window = Math.max(1, n / 100);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            x[i] = i + 1;
            y[i] = losses.get(i);
            sum += y[i];
            if (i >= window) {
                sum -= y[i - window];
            }
            avg[i] = sum / Math.min(i + 1, window);
        }
        XYChart chart = new XYChartBuilder().width(900).height(500).title("training loss").xAxisTitle("step")
                .yAxisTitle("loss").build();
        chart.getStyler().setLegendVisible(true);
        XYSeries raw = chart.addSeries("loss", x, y);
        raw.setMarker(SeriesMarkers.NONE);
        raw.setLineWidth(0.6f);
        XYSeries smooth = chart.addSeries("mean of " + window + " steps", x, avg);
        smooth.setMarker(SeriesMarkers.NONE);
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp.png");
        BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
