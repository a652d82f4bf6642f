package io.fiberloop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartsTest {
    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    /** A result document as EchoLoad writes it: two cells, three servers, three rounds. */
    static JsonNode document() throws Exception {
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("rounds", 3);
        options.put("seconds", 10);
        options.put("transport", "epoll");
        ResultsFile rf = new ResultsFile("EchoLoad", List.of(), options);
        for (int conns : new int[] {50, 1000}) {
            List<Sample> runs = new ArrayList<>();
            for (int r = 1; r <= 3; r++) {
                runs.add(new Sample("raw", r, 100_000 + 1000 * r, 400, 900, 10, 2, 8, Map.of()));
                runs.add(new Sample("fiberloop", r, 97_000 + 1000 * r, 420, 950, 10.5, 2.8, 7.7, Map.of()));
                runs.add(new Sample("vertx", r, 90_000 + 1000 * r, 450, 990, 11.5, 3.7, 7.8, Map.of()));
            }
            String cell = "echo 1 KiB x " + conns;
            rf.add(new ResultsFile.Cell(cell, "rt", Map.of("connections", conns), runs, CellSummary.of(cell, runs, Goal.ECHO)));
        }
        return new ObjectMapper().readTree(rf.json(Instant.now()));
    }

    @Test
    void rendersThreeChartsWithAPanelPerCell(@TempDir Path dir) throws Exception {
        List<Path> pngs = Charts.render(document(), dir, "EchoLoad-test");
        assertEquals(List.of("EchoLoad-test-ratios.png", "EchoLoad-test-rates.png", "EchoLoad-test-cpu.png"),
                pngs.stream().map(p -> p.getFileName().toString()).toList());
        for (Path p : pngs) {
            BufferedImage img = ImageIO.read(p.toFile());
            assertEquals(2 * Charts.PANEL_W, img.getWidth(), p + ": two panels side by side");
            assertEquals(Charts.HEADER_H + Charts.PANEL_H, img.getHeight(), p + ": one row of panels");
            assertTrue(distinctColors(img) > 20, p + " looks empty");
        }
    }

    @Test
    void theRatioChartHasTheGoalsAndOnlyTheServersOtherThanRaw() throws Exception {
        JsonNode cell = document().get("cells").get(0);
        var plot = Charts.ratioChart(cell).getCategoryPlot();
        assertEquals(List.of("fiberloop", "vertx"), plot.getDataset(0).getRowKeys());
        assertEquals(List.of("rt/s", "CPU/rt", "user CPU/rt", "p99"), plot.getDataset(0).getColumnKeys());
        assertEquals(1.25, plot.getDataset(1).getValue("goal", "user CPU/rt").doubleValue());
        assertEquals(0.95, plot.getDataset(1).getValue("goal", "rt/s").doubleValue());
        // The marks share the bars' categories, or the renderer spreads them over the wrong places.
        assertEquals(plot.getDataset(0).getColumnKeys(), plot.getDataset(1).getColumnKeys());
        assertEquals(null, plot.getDataset(1).getValue("goal", "p99"), "echo has no p99 goal");
    }

    private static int distinctColors(BufferedImage img) {
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) {
                seen.add(img.getRGB(x, y));
            }
        }
        return seen.size();
    }
}
