/* filesd.h - Prometheus file_sd documents (JSON through jansson, YAML
 * through libyaml) read into targets: target, labels, module. */
#ifndef TLSWATCH_FILESD_H
#define TLSWATCH_FILESD_H

#include <stddef.h>

#include "conf/conf.h"
#include "conf/ptarget.h"

/* Bounds on what one file may hold; more is an error, not a truncation. */
#define FILESD_MAX_BYTES (16u << 20)     /* the file */
#define FILESD_MAX_TARGETS 100000        /* targets, all groups together */
#define FILESD_MAX_LABELS 64             /* labels of one group */
#define FILESD_MAX_VALUE 4096            /* bytes of a label value or module name */
#define FILESD_MAX_ERRORS 20             /* errors reported; then "and N more" */

enum filesd_format {
	FILESD_JSON,
	FILESD_YAML,
};

struct filesd_target {
	char *target;               /* as written */
	struct ptarget addr;        /* what it names */
	char *module;               /* __param_module or __module; NULL: the default */
	struct conf_label *labels;  /* sorted by name; "__" labels left out */
	size_t nlabels;
	size_t group, index;        /* the target is [group].targets[index] */
	int line, column;           /* 1-based; 0 in JSON (jansson keeps no positions) */
};

struct filesd {
	struct filesd_target *targets;   /* in file order */
	size_t ntargets;
};

/* The format Prometheus gives a file by its name: ".json", else ".yml" or
 * ".yaml" (any case). 0, or -1 for any other name. */
int filesd_format_of(const char *path, enum filesd_format *f);

/* Read one document (name is what errors say). On success returns the
 * targets and *errors is NULL; on failure NULL, and *errors holds one
 * "NAME:LINE:COLUMN: PATH: message" per line (YAML; JSON has no position
 * after parsing: "NAME: PATH: message"), caller frees. */
struct filesd *filesd_parse(const char *name, enum filesd_format f, const char *data, size_t len,
                            char **errors);
/* The bytes of the file at path (symbolic links followed, as Prometheus
 * does: ConfigMaps are links), at most FILESD_MAX_BYTES + 1 of them (more
 * is for filesd_parse to refuse), NUL-terminated; NULL with *errors. */
char *filesd_read(const char *path, size_t *len, char **errors);
/* Read and parse the file at path, its format from its name. */
struct filesd *filesd_load(const char *path, char **errors);
void filesd_free(struct filesd *f);

#endif
