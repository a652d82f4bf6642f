package io.fiberloop.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.DatasetRenderingOrder;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.BoxAndWhiskerRenderer;
import org.jfree.chart.renderer.category.LineAndShapeRenderer;
import org.jfree.chart.renderer.category.StackedBarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.AbstractRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.data.category.CategoryDataset;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.statistics.BoxAndWhiskerCalculator;
import org.jfree.data.statistics.DefaultBoxAndWhiskerCategoryDataset;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Renders the result files of {@link HttpLoad} and {@link EchoLoad} ({@link ResultsFile}) as PNG
 * charts, three per file, one panel per cell:
 * <ul>
 * <li>{@code <name>-ratios.png}: the median per-round ratio against raw Netty of the rate, CPU,
 *     user CPU per operation and p99 of each server, with issue 20's goal on each as a red mark;</li>
 * <li>{@code <name>-rates.png}: each server's requests or round trips a second over the rounds
 *     (box: quartiles, line: median, whiskers: the rest of the rounds);</li>
 * <li>{@code <name>-cpu.png}: each server's median CPU per operation, user and system stacked.</li>
 * </ul>
 * {@code <name>} is the result file's name without {@code .json}.
 *
 * <pre>
 * ./fiberloop java -cp benchmarks/target/benchmarks.jar io.fiberloop.bench.Charts \
 *     --out-dir benchmarks/results/charts benchmarks/results/HttpLoad-*.json
 * </pre>
 */
@Command(name = "Charts", mixinStandardHelpOptions = true, usageHelpWidth = 110,
        description = "Renders PNG charts of HttpLoad/EchoLoad result files: ratios against raw Netty with the goals, "
                + "rates over the rounds, CPU per operation (user + system).")
public final class Charts implements Callable<Integer> {
    static final int PANEL_W = 620;
    static final int PANEL_H = 400;
    static final int HEADER_H = 56;
    private static final Map<String, Color> SERVER_COLORS = Map.of(
            "fiberloop", new Color(0x1f77b4), "raw", new Color(0x7f7f7f), "vertx", new Color(0xff7f0e),
            "vertx-vt", new Color(0x2ca02c), "fiberloop-turn", new Color(0x9467bd), "fiberloop-reads", new Color(0x8c564b));
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 15);
    private static final Font SMALL = new Font(Font.SANS_SERIF, Font.PLAIN, 11);

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Result files (JSON) of HttpLoad or EchoLoad.")
    List<Path> files;

    @Option(names = {"-o", "--out-dir"}, defaultValue = "benchmarks/results/charts", paramLabel = "DIR",
            description = "Where the PNGs go (default: ${DEFAULT-VALUE}).")
    Path outDir;

    /**
     * Renders the charts.
     *
     * @param args see {@code --help}
     */
    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(new CommandLine(new Charts()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        Files.createDirectories(outDir);
        for (Path f : files) {
            JsonNode doc = new ObjectMapper().readTree(f.toFile());
            if (!doc.has("cells") || !doc.has("harness")) {
                System.err.println("Charts: " + f + " is not a result file of HttpLoad or EchoLoad (no harness or cells)");
                return 2;
            }
            String name = f.getFileName().toString().replaceFirst("\\.json$", "");
            for (Path p : render(doc, outDir, name)) {
                System.out.println(p);
            }
        }
        return 0;
    }

    /** Renders the three PNGs of one result document; returns their paths. */
    static List<Path> render(JsonNode doc, Path dir, String name) throws IOException {
        List<JFreeChart> ratios = new ArrayList<>();
        List<JFreeChart> rates = new ArrayList<>();
        List<JFreeChart> cpu = new ArrayList<>();
        for (JsonNode cell : doc.get("cells")) {
            ratios.add(ratioChart(cell));
            rates.add(rateChart(cell));
            cpu.add(cpuChart(cell));
        }
        String header = header(doc);
        List<Path> out = List.of(dir.resolve(name + "-ratios.png"), dir.resolve(name + "-rates.png"), dir.resolve(name + "-cpu.png"));
        grid(ratios, header + ": median per-round ratio against raw Netty (red marks: issue 20's goals)", out.get(0));
        grid(rates, header + ": rate per server over the rounds", out.get(1));
        grid(cpu, header + ": median server CPU per operation, user + system", out.get(2));
        return out;
    }

    static String header(JsonNode doc) {
        JsonNode o = doc.get("options");
        return String.format("%s, commit %s, %s, %d rounds of %d s, %s", doc.get("harness").asText(),
                doc.get("commit").asText(), doc.get("started").asText().substring(0, 16).replace('T', ' ') + " UTC",
                o.get("rounds").asInt(), o.get("seconds").asInt(), o.get("transport").asText());
    }

    /** Bars: each non-raw server's median ratio per metric; red marks: the goal's bound; dashed line: raw = 1. */
    static JFreeChart ratioChart(JsonNode cell) {
        String op = cell.get("operation").asText();
        String[][] metrics = {{"rate", op + "/s"}, {"cpu", "CPU/" + op}, {"user", "user CPU/" + op}, {"p99", "p99"}};
        DefaultCategoryDataset bars = new DefaultCategoryDataset();
        DefaultCategoryDataset goals = new DefaultCategoryDataset();
        for (JsonNode s : cell.at("/summary/servers")) {
            if (s.get("ratio").isEmpty()) {
                continue; // raw
            }
            for (String[] m : metrics) {
                bars.addValue(number(s.at("/ratio/" + m[0])), s.get("server").asText(), m[1]);
            }
            for (String[] m : metrics) { // every column, so that the marks line up with the bars' categories
                Double bound = null;
                for (JsonNode v : s.get("verdicts")) {
                    if (m[0].equals(v.at("/goal/metric").asText())) {
                        bound = v.at("/goal/bound").asDouble();
                    }
                }
                goals.addValue(bound, "goal", m[1]);
            }
        }
        JFreeChart chart = ChartFactory.createBarChart(cell.get("name").asText(), null, "× raw Netty (dashed: raw = 1)", bars,
                PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = style(chart);
        colorByServer((BarRenderer) plot.getRenderer(), bars);
        plot.setDataset(1, goals);
        LineAndShapeRenderer g = new LineAndShapeRenderer(false, true);
        g.setSeriesShape(0, new Rectangle2D.Double(-50, -1.5, 100, 3));
        g.setSeriesPaint(0, new Color(176, 0, 0, 170));
        plot.setRenderer(1, g);
        plot.setDatasetRenderingOrder(DatasetRenderingOrder.FORWARD); // the marks over the bars
        ValueMarker parity = new ValueMarker(1.0, Color.DARK_GRAY, new BasicStroke(1f, BasicStroke.CAP_BUTT,
                BasicStroke.JOIN_MITER, 1f, new float[] {4f, 4f}, 0f));
        plot.addRangeMarker(parity, Layer.FOREGROUND);
        plot.getRangeAxis().setLowerBound(0);
        return chart;
    }

    /** Box per server: its rate over the rounds. */
    static JFreeChart rateChart(JsonNode cell) {
        String op = cell.get("operation").asText();
        DefaultBoxAndWhiskerCategoryDataset data = new DefaultBoxAndWhiskerCategoryDataset();
        for (JsonNode s : cell.at("/summary/servers")) {
            String server = s.get("server").asText();
            List<Double> rates = new ArrayList<>();
            for (JsonNode run : cell.get("runs")) {
                if (run.get("server").asText().equals(server)) {
                    rates.add(run.get("rate").asDouble() / 1000);
                }
            }
            data.add(BoxAndWhiskerCalculator.calculateBoxAndWhiskerStatistics(rates), server, op + "/s");
        }
        JFreeChart chart = ChartFactory.createBoxAndWhiskerChart(cell.get("name").asText(), null,
                "thousand " + op + "/s (axis not from 0)", data, true);
        CategoryPlot plot = style(chart);
        BoxAndWhiskerRenderer r = (BoxAndWhiskerRenderer) plot.getRenderer();
        r.setMeanVisible(false);
        r.setMaxOutlierVisible(true);
        r.setMinOutlierVisible(true);
        r.setItemMargin(0.15);
        colorByServer(r, data);
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        return chart;
    }

    /** Stacked bars per server: median user and system CPU per operation. */
    static JFreeChart cpuChart(JsonNode cell) {
        String op = cell.get("operation").asText();
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (JsonNode s : cell.at("/summary/servers")) {
            data.addValue(number(s.at("/median/user")), "user", s.get("server").asText());
            data.addValue(number(s.at("/median/sys")), "system", s.get("server").asText());
        }
        JFreeChart chart = ChartFactory.createStackedBarChart(cell.get("name").asText(), null, "CPU µs/" + op, data,
                PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = style(chart);
        StackedBarRenderer r = (StackedBarRenderer) plot.getRenderer();
        r.setSeriesPaint(0, new Color(0x1f4e79));
        r.setSeriesPaint(1, new Color(0x9dc3e6));
        r.setMaximumBarWidth(0.12);
        return chart;
    }

    private static CategoryPlot style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(TITLE);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        plot.setOutlineVisible(false);
        if (plot.getRenderer() instanceof BarRenderer b) { // bars (and stacked bars) carry their value
            b.setBarPainter(new StandardBarPainter());
            b.setShadowVisible(false);
            b.setItemMargin(0.05);
            b.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new DecimalFormat("0.00")));
            b.setDefaultItemLabelsVisible(true);
            b.setDefaultItemLabelFont(SMALL);
        }
        return plot;
    }

    /** Each row (series) of {@code data} is a server: its color is the server's. */
    private static void colorByServer(AbstractRenderer r, CategoryDataset data) {
        for (int i = 0; i < data.getRowCount(); i++) {
            r.setSeriesPaint(i, color((String) data.getRowKey(i)));
        }
    }

    static Color color(String server) {
        return SERVER_COLORS.getOrDefault(server, Color.MAGENTA);
    }

    /** A JSON number, or NaN for a missing value or Jackson's "NaN" string. */
    static Double number(JsonNode n) {
        return n.isMissingNode() || n.isNull() ? Double.NaN : n.asDouble(Double.NaN);
    }

    /** Draws the panels two to a row under a header line and writes the PNG. */
    static void grid(List<JFreeChart> panels, String header, Path out) throws IOException {
        int cols = Math.min(2, panels.size());
        int rows = (panels.size() + cols - 1) / cols;
        BufferedImage img = new BufferedImage(cols * PANEL_W, HEADER_H + rows * PANEL_H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
            int split = header.indexOf(": ");
            g.drawString(header.substring(0, split + 1), 12, 22);
            g.drawString(header.substring(split + 2), 12, 44);
            for (int i = 0; i < panels.size(); i++) {
                panels.get(i).draw(g, new Rectangle2D.Double((i % cols) * PANEL_W, HEADER_H + (i / cols) * PANEL_H, PANEL_W, PANEL_H));
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(img, "png", out.toFile());
    }
}
