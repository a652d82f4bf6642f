package io.fiberloop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsFileTest {
    @Test
    void writesCommandMachineRunsAndSummaries(@TempDir Path dir) throws Exception {
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("rounds", 2);
        ResultsFile rf = new ResultsFile("HttpLoad", List.of("-c", "100"), options);
        List<Sample> runs = List.of(
                new Sample("raw", 1, 100_000, 300, 900, 6, 2, 4, Map.of("socketErrors", 0L)),
                new Sample("fiberloop", 1, 97_000, 350, 950, 6.5, 2.3, 4.2, Map.of("socketErrors", 0L)));
        rf.add(new ResultsFile.Cell("http -c100", "req", Map.of("connections", 100), runs,
                CellSummary.of("http -c100", runs, Goal.HTTP)));
        rf.fail("vertx round 1 of http -c100: boom");
        Path file = rf.write(dir.resolve("sub/r.json"));

        JsonNode doc = new ObjectMapper().readTree(Files.readString(file));
        assertEquals(ResultsFile.FORMAT, doc.get("format").asInt());
        assertEquals("HttpLoad", doc.get("harness").asText());
        assertTrue(doc.get("command").asText().endsWith("io.fiberloop.bench.HttpLoad -c 100"), doc.get("command").asText());
        assertTrue(doc.get("commit").asText().length() > 0);
        assertEquals(Runtime.getRuntime().availableProcessors(), doc.at("/machine/cpus").asInt());
        assertTrue(doc.at("/machine/java").asText().startsWith(Integer.toString(Runtime.version().feature())));
        assertEquals(2, doc.at("/options/rounds").asInt());
        JsonNode cell = doc.get("cells").get(0);
        assertEquals("http -c100", cell.get("name").asText());
        assertEquals(97_000, cell.at("/runs/1/rate").asDouble());
        assertEquals(2.3, cell.at("/runs/1/userUs").asDouble());
        JsonNode fiberloop = cell.at("/summary/servers/1");
        assertEquals("fiberloop", fiberloop.get("server").asText());
        assertEquals(0.97, fiberloop.at("/ratio/rate").asDouble(), 1e-12);
        assertEquals(97_000, fiberloop.at("/median/rate").asDouble());
        assertEquals("rate", fiberloop.at("/verdicts/0/goal/metric").asText());
        assertTrue(fiberloop.at("/verdicts/0/met").asBoolean());
        assertEquals(0.0, cell.at("/summary/rawSpread").asDouble());
        assertEquals("vertx round 1 of http -c100: boom", doc.at("/failures/0").asText());
    }

    @Test
    void defaultPathIsUnderBenchmarksResultsWithTheHarnessAndTime() {
        Path p = ResultsFile.defaultPath("EchoLoad", java.time.Instant.parse("2026-12-06T20:01:02Z"));
        assertTrue(p.endsWith(Path.of("benchmarks", "results", "EchoLoad-20261206-200102.json")), p.toString());
    }
}
