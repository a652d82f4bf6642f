/**
 * Fibers on the event loop (work in progress; see issue 3): the custom virtual-thread scheduler,
 * {@code Fiber} switching with python-fibers' semantics, tasks, await, cancellation, timeouts and
 * task scopes. Nothing in this package is implemented yet.
 */
package io.fiberloop.fiber;
