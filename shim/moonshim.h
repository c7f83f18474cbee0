/* moonshim.h: the optional cooperative API (see moonshim.h(3) once it exists).
 *
 * Unmodified programs need nothing from this header. For now it only lets a program know the
 * protocol version it was built against; the assertion macros of DESIGN.md come with the sweep. */
#ifndef MOONSHIM_H
#define MOONSHIM_H

#define MOONSHIM_PROTOCOL_VERSION 1

#endif
