/* STUB: to be replaced by the real implementation */
#include "amor-system-private.h"

struct _AmorSystem { GObject parent_instance; guint n_cpus; };
G_DEFINE_FINAL_TYPE (AmorSystem, amor_system, G_TYPE_OBJECT)
static void amor_system_class_init (AmorSystemClass *klass) {}
static void amor_system_init (AmorSystem *self) { self->n_cpus = 2; }
AmorSystem *amor_system_get_default (void) { static AmorSystem *s; if (!s) s = g_object_new (AMOR_TYPE_SYSTEM, NULL); return s; }
AmorSystem *amor_system_new (void) { return g_object_new (AMOR_TYPE_SYSTEM, NULL); }
AmorSystem *amor_system_new_custom (guint n_cpus, guint n_physical_cores, guint64 available_memory, double fork_join_cost, double dispatch_cost)
{ AmorSystem *s = g_object_new (AMOR_TYPE_SYSTEM, NULL); s->n_cpus = n_cpus; return s; }
guint amor_system_get_n_cpus (AmorSystem *self) { return self->n_cpus; }
guint amor_system_get_n_physical_cores (AmorSystem *self) { return self->n_cpus; }
guint64 amor_system_get_available_memory (AmorSystem *self) { return G_GUINT64_CONSTANT (1) << 33; }
double amor_system_get_fork_join_cost (AmorSystem *self) { return 20e-6; }
double amor_system_get_dispatch_cost (AmorSystem *self) { return 0.1e-6; }
