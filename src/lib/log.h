/* log: leveled logging to stderr. Only top-level code (request handlers,
 * main loops) logs; lower layers return errors (STYLE.md habit 11). The
 * level check happens before formatting. Messages are lowercase with user
 * values quoted. */
#ifndef CN_LOG_H
#define CN_LOG_H

enum cn_log_level { CN_LOG_DEBUG, CN_LOG_INFO, CN_LOG_WARN, CN_LOG_ERROR };

extern int cn_log_threshold;
void cn_log_set_level(enum cn_log_level lvl);
/* Set the level from its name (debug, info, warn, error); -EINVAL if unknown. */
int cn_log_set_level_name(const char *name);
void cn_log_write(enum cn_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cn_log(lvl, ...) do { if ((lvl) >= cn_log_threshold) cn_log_write((lvl), __VA_ARGS__); } while (0)
#define cn_debug(...) cn_log(CN_LOG_DEBUG, __VA_ARGS__)
#define cn_info(...)  cn_log(CN_LOG_INFO, __VA_ARGS__)
#define cn_warn(...)  cn_log(CN_LOG_WARN, __VA_ARGS__)
#define cn_error(...) cn_log(CN_LOG_ERROR, __VA_ARGS__)

#endif
