def crunch(n):
    return {"revenue": sum(i % 97 for i in range(int(n)))}
