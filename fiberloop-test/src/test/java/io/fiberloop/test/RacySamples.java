package io.fiberloop.test;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import org.junit.jupiter.api.Test;

/**
 * A deliberately racy account: {@code withdraw} checks the balance, then suspends (an audit log
 * write), then subtracts: a check-then-act across a suspension point. In FIFO order it happens to
 * work (the second withdrawal authenticates first, one suspension, so the first one has finished
 * when the second checks); another order overdraws. {@link ExploreTest} runs these through
 * EngineTestKit.
 */
final class RacySamples {
    private RacySamples() {
    }

    static final class Account {
        int balance = 100;

        boolean withdraw(int amount) {
            if (balance < amount) {
                return false;
            }
            Fibers.yieldNow(); // writes the audit log: a suspension point
            balance -= amount;
            return true;
        }
    }

    /** Two withdrawals of 60 from 100: one must be refused. */
    static void twoWithdrawals() {
        Account account = new Account();
        Task<Boolean> first = Fibers.spawn("first", () -> account.withdraw(60));
        Task<Boolean> second = Fibers.spawn("second", () -> {
            Fibers.yieldNow(); // authenticates first
            return account.withdraw(60);
        });
        Fibers.joinAll(first, second);
        assertEquals(40, account.balance, "overdrawn: both withdrawals of 60 went through");
    }

    @FiberLoopTest
    static class Racy {
        @Test
        void withdrawalsInFifoOrder() {
            twoWithdrawals();
        }

        @Explore(iterations = 50)
        void withdrawals() {
            twoWithdrawals();
        }

        /** The seed that a failing run of {@link #withdrawals()} printed, replayed. */
        @Explore(seed = 0xb64376f0b9179126L)
        void withdrawalsReplayed() {
            twoWithdrawals();
        }
    }
}
