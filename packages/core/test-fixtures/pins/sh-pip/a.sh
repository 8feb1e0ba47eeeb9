pip install requests
pip install --require-hashes -r req.txt
python3 -m pip install -U pip
pip3 install -r hashed.txt
pip install -r plain.txt
