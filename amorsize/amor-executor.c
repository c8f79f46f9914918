/* STUB: to be replaced by the real implementation */
#include "amor-executor.h"
struct _AmorExecutor { GObject parent_instance; };
G_DEFINE_FINAL_TYPE (AmorExecutor, amor_executor, G_TYPE_OBJECT)
static void amor_executor_class_init (AmorExecutorClass *klass) {}
static void amor_executor_init (AmorExecutor *self) {}
