#!/bin/sh
# A CNI plugin for fault injection, doing what its name says: hang never
# answers ADD; garbage exits 0 printing no JSON on ADD; faildel succeeds but
# fails every DEL (while the file DEL-OK is not beside it). Other commands succeed.
cat > /dev/null
plugin=$(basename "$0")
case "$plugin:$CNI_COMMAND" in
  hang:ADD) exec sleep 60 ;;
  garbage:ADD) echo 'this is not a CNI result'; exit 0 ;;
  faildel:ADD) echo '{"cniVersion": "1.0.0"}'; exit 0 ;;
  faildel:DEL)
    [ -e "$(dirname "$0")/DEL-OK" ] && exit 0
    echo '{"code": 999, "msg": "injected DEL failure"}'; exit 1 ;;
esac
exit 0
