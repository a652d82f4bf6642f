/**
 * Service-provider interfaces of the event loop: how an I/O system plugs into a loop
 * ({@link io.fiberloop.loop.spi.IoDriver}) and how a continuation scheduler such as fiberloop's
 * fiber module takes over a loop's carrier thread ({@link io.fiberloop.loop.spi.LoopHost}).
 *
 * <p>Application code does not need this package.
 */
package io.fiberloop.loop.spi;
