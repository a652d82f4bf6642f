package io.fiberloop.test;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.VirtualClock;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Method;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContextProvider;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The JUnit 5 extension behind {@link FiberLoopTest} and {@link Explore}: gives each test method
 * its own fiber loop on an auto-advancing virtual clock, runs the method as the loop's main fiber
 * (once per seed for {@code @Explore}, a test template),
 * injects the loop, its clock, a {@link TestLoop}, an {@link EventOrder} and, when asked for, a
 * {@link SimNetwork} (the loop then runs on it), and fails the test
 * on leaked tasks, unobserved failures and passed time limits. Use the annotations; registering
 * this class with {@code @ExtendWith} works too (with {@link FiberLoopTest}'s default limits).
 *
 * <p>Threading: JUnit calls it on the test's thread; the test method then runs on the loop.
 */
public final class FiberLoopExtension implements ParameterResolver, InvocationInterceptor, TestTemplateInvocationContextProvider {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(FiberLoopExtension.class);
    private static final String SESSION = "session";
    private static final String SEED = "seed";
    private static final Duration DEFAULT_VIRTUAL_LIMIT = Duration.ofDays(1);
    private static final Duration DEFAULT_REAL_LIMIT = Duration.ofSeconds(30);

    /** Instantiated by JUnit. */
    public FiberLoopExtension() {
    }

    /** {@link Explore}'s run for one seed: the test's loop explores schedules from it. */
    static void useSeed(ExtensionContext context, long seed) {
        context.getStore(NS).put(SEED, seed);
    }

    @Override
    public boolean supportsTestTemplate(ExtensionContext context) {
        return ExploreSeeds.supports(context);
    }

    @Override
    public Stream<TestTemplateInvocationContext> provideTestTemplateInvocationContexts(ExtensionContext context) {
        return ExploreSeeds.invocations(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return parameter.getDeclaringExecutable() instanceof Method && context.getTestMethod().isPresent()
                && (type == EventLoop.class || type == VirtualClock.class || type == TestLoop.class || type == EventOrder.class
                || type == SimNetwork.class);
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        TestSession s = session(context);
        Class<?> type = parameter.getParameter().getType();
        if (type == EventLoop.class) {
            return s.loop;
        } else if (type == VirtualClock.class) {
            return s.clock;
        } else if (type == TestLoop.class) {
            return s.kit;
        } else if (type == EventOrder.class) {
            return s.order;
        } else if (type == SimNetwork.class) {
            return s.network;
        }
        throw new ParameterResolutionException("fiberloop-test cannot inject a " + type.getName());
    }

    @Override
    public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> invocationContext,
            ExtensionContext context) throws Throwable {
        session(context).run(invocation);
    }

    @Override
    public void interceptTestTemplateMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> invocationContext,
            ExtensionContext context) throws Throwable {
        session(context).run(invocation);
    }

    /** The test's session, built on first use (parameters are resolved before the method runs). */
    private static TestSession session(ExtensionContext context) {
        return context.getStore(NS).getOrComputeIfAbsent(SESSION, k -> open(context), TestSession.class);
    }

    private static TestSession open(ExtensionContext context) {
        Method method = context.getRequiredTestMethod();
        Optional<FiberLoopTest> config = find(method, context.getRequiredTestClass());
        Duration virtualLimit = config.map(c -> parse(c.virtualTimeLimit(), "virtualTimeLimit")).orElse(DEFAULT_VIRTUAL_LIMIT);
        Duration realLimit = config.map(c -> parse(c.realTimeLimit(), "realTimeLimit")).orElse(DEFAULT_REAL_LIMIT);
        Long seed = context.getStore(NS).get(SEED, Long.class);
        boolean simulated = java.util.Arrays.asList(method.getParameterTypes()).contains(SimNetwork.class);
        SimNetwork network = simulated ? SimNetwork.create(seed != null ? seed : SimNetwork.DEFAULT_SEED) : null;
        boolean leakCheck = simulated || config.map(FiberLoopTest::checkBufferLeaks).orElse(false);
        return new TestSession("test-" + method.getName(), seed, virtualLimit, realLimit, network, leakCheck);
    }

    /** The method's annotation, else its class's (or an enclosing class's, for {@code @Nested} tests). */
    private static Optional<FiberLoopTest> find(Method method, Class<?> testClass) {
        Optional<FiberLoopTest> a = AnnotationSupport.findAnnotation(method, FiberLoopTest.class);
        for (Class<?> c = testClass; a.isEmpty() && c != null; c = c.getEnclosingClass()) {
            a = AnnotationSupport.findAnnotation((AnnotatedElement) c, FiberLoopTest.class);
        }
        return a;
    }

    private static Duration parse(String text, String attribute) {
        Function<String, IllegalArgumentException> bad = why -> new IllegalArgumentException("@FiberLoopTest(" + attribute + " = \""
                + text + "\"): " + why + "; write an ISO-8601 duration such as \"PT30S\", \"PT1H\" or \"P1D\"");
        Duration d;
        try {
            d = Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw bad.apply("not a duration");
        }
        if (d.isNegative() || d.isZero()) {
            throw bad.apply("must be positive");
        }
        return d;
    }
}
